"""The playbook domain: model, loader, matcher, templating. No AWS SDK, no UI."""
