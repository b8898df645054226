"""Icons, exercise pictures, templates and sounds shipped with Stride Clinic."""
