"""One file per schema revision; packaged with ``bot`` so installs can upgrade themselves."""
