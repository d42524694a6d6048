//! The typed API: paths, methods, bodies and answers come from `schema.d.ts`,
//! generated from the committed `openapi.json` snapshot of the app's document,
//! so a call to a path or with a body the API does not have fails `tsc`.

import type { components, paths } from './schema';
import type { Http, RequestOptions } from './http';

export type Schemas = components['schemas'];

type Methods = 'get' | 'post' | 'patch' | 'put' | 'delete';
type PathsWith<M extends Methods> = {
  [P in keyof paths]: paths[P] extends Record<M, infer O> ? (O extends undefined | never ? never : P) : never;
}[keyof paths];

type Op<P extends keyof paths, M extends Methods> = paths[P] extends Record<M, infer O> ? O : never;

type JsonOf<C> = C extends { content: { 'application/json': infer B } } ? B : undefined;
type Success<R> = 200 extends keyof R ? JsonOf<R[200]> : 201 extends keyof R ? JsonOf<R[201]> : undefined;
type ResponseOf<O> = O extends { responses: infer R } ? Success<R> : undefined;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? (Q extends undefined ? never : Q) : never;

/** Fills `{name}` placeholders of an OpenAPI path. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${path}`);
    return encodeURIComponent(v);
  });
}

interface CallOpts<O> {
  params?: Record<string, string>;
  query?: QueryOf<O> extends never ? RequestOptions['query'] : Partial<QueryOf<O>> & RequestOptions['query'];
  signal?: AbortSignal;
  noAuthRetry?: boolean;
}

/** Typed methods over the HTTP core. */
export function typedApi(http: Http) {
  function call<P extends keyof paths, M extends Methods>(
    method: M,
    path: P,
    opts: CallOpts<Op<P, M>> & { body?: BodyOf<Op<P, M>> } = {},
  ): Promise<ResponseOf<Op<P, M>>> {
    const req: RequestOptions = {};
    if (opts.query) req.query = opts.query as RequestOptions['query'];
    if (opts.body !== undefined) req.body = opts.body;
    if (opts.signal) req.signal = opts.signal;
    if (opts.noAuthRetry) req.noAuthRetry = true;
    return http.request(method.toUpperCase(), fillPath(path as string, opts.params), req);
  }
  return {
    get: <P extends PathsWith<'get'>>(path: P, opts?: CallOpts<Op<P, 'get'>>) => call('get', path, opts),
    post: <P extends PathsWith<'post'>>(path: P, opts?: CallOpts<Op<P, 'post'>> & { body?: BodyOf<Op<P, 'post'>> }) =>
      call('post', path, opts),
    patch: <P extends PathsWith<'patch'>>(path: P, opts?: CallOpts<Op<P, 'patch'>> & { body?: BodyOf<Op<P, 'patch'>> }) =>
      call('patch', path, opts),
    del: <P extends PathsWith<'delete'>>(path: P, opts?: CallOpts<Op<P, 'delete'>>) => call('delete', path, opts),
    refresh: http.refresh,
  };
}
