"""supervision: opens a case per petition, runs its deadline clocks and projects the case read models."""
