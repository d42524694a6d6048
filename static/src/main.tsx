//! Entry: mounts the app and starts following the URL.

import { render } from 'preact';
import './style.css';
import { App } from './app/App';
import { startHistory } from './router/history';

startHistory();
const root = document.getElementById('app');
if (root) render(<App />, root);
