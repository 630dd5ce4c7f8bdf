"""The README stays true to the code: every setting the app reads is documented, and its examples render as code."""
import re

from tests.processes import ROOT

README = (ROOT / "README.md").read_text()


def test_every_environment_variable_the_app_reads_is_in_the_readme():
    config = (ROOT / "app" / "config.py").read_text()
    names = set(re.findall(r'env_\w+\(environ, "([A-Z0-9_]+)"', config))
    names |= set(re.findall(r'environ\.get\("([A-Z0-9_]+)"', config))
    names |= set(re.findall(r'"(TLS_[A-Z_]+_FILE)"', config))  # read in a loop over the two names
    assert len(names) > 40  # the patterns still find the settings
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == [], f"settings read in app/config.py but not documented in the README: {missing}"


def test_every_code_block_in_the_readme_is_closed():
    """An unclosed ``` swallows the sections after it into one code block (it happened twice)."""
    open_block_at = None
    for number, line in enumerate(README.splitlines(), start=1):
        if line.startswith("```"):
            open_block_at = None if open_block_at else number
        elif open_block_at and re.match(r"#{2,4} [A-Z]", line):
            raise AssertionError(f"the code block opened on line {open_block_at} runs into the heading {line!r}")
    assert open_block_at is None, f"the code block opened on line {open_block_at} is never closed"
