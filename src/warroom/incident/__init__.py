"""Records, findings, the bounded store and the audit trail. No Textual, no AWS SDK."""
