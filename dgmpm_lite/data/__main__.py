"""``python -m dgmpm_lite.data``: generate synthetic videos (see :mod:`dgmpm_lite.data.synthetic`)."""

from .synthetic import main

if __name__ == "__main__":
    raise SystemExit(main())
