-- Billing (SQLite). Keep in step with ../postgres: a test compares the two.
-- A tenant's subscription as Stripe last described it, a superuser's
-- complimentary plan, and the pauses a downgrade makes. `tenants.plan` stays
-- the plan in force (what limits apply); it is recomputed from these columns.

ALTER TABLE tenants ADD COLUMN stripe_subscription_id TEXT;
-- The plan the subscription pays for (by its price), whatever its status.
ALTER TABLE tenants ADD COLUMN subscription_plan TEXT;
ALTER TABLE tenants ADD COLUMN current_period_end BIGINT;
ALTER TABLE tenants ADD COLUMN cancel_at_period_end BIGINT NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1));
-- When the subscription became past_due; the plan is kept for the grace period after it.
ALTER TABLE tenants ADD COLUMN past_due_since BIGINT;
-- Stripe's time (ms) of the subscription state stored, so older events cannot overwrite it.
ALTER TABLE tenants ADD COLUMN subscription_synced_at BIGINT;
-- A plan a superuser granted by hand (complimentary); it wins over the subscription.
ALTER TABLE tenants ADD COLUMN plan_override TEXT;
CREATE UNIQUE INDEX tenants_stripe_customer_key ON tenants (stripe_customer_id);

-- Set only by billing when the plan no longer allows the row; NULL otherwise.
-- Separate from monitors.paused (the owner's own pause), so lifting it restores
-- exactly what the owner had.
ALTER TABLE monitors ADD COLUMN paused_reason TEXT;
ALTER TABLE status_pages ADD COLUMN paused_reason TEXT;
ALTER TABLE alert_channels ADD COLUMN paused_reason TEXT;
ALTER TABLE domains ADD COLUMN paused_reason TEXT;

-- Dunning's sweep: tenants whose grace period may have ended.
CREATE INDEX tenants_past_due_idx ON tenants (past_due_since);
