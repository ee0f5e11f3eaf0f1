"""Partner REST API of payouts (/api/v1/…). Funding first; orders and batches add their modules beside it."""
