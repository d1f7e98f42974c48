"""The edge to the network that providers and alert channels share: one retry policy, bounded and
deadlined HTTP responses. Nothing here knows about usage, prices or alerts.
"""
