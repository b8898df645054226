"""Qt user interface of Stride Clinic: thin widgets that call into :mod:`app`."""
