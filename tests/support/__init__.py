"""Test support: backends, strategies, tolerances, the @claim decorator and the claim report."""
