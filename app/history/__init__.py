"""The patient history: per-visit trends, outcome measures, visit comparison and exports."""
