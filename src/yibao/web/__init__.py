"""Delivery over HTTP: the JSON API, the mobile pages, the staff portal, the kiosk."""
