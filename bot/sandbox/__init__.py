"""The sandbox: the real app, a local stand-in for Slack, and a Slack-like web page to use it from."""
