"""Shared vocabulary of every feature: money in fen, ids, time, errors. Imports nothing of ours."""
