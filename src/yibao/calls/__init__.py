"""Hotline calls (热线来电记录): each call's record, the queue for an agent, the figures per hour."""
