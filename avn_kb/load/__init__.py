"""Loading knowledge: safe YAML, schema checks, the model; from the working tree or a git revision."""


class GitError(Exception):
    """The revision or repository cannot be used (a usage error, exit 2). Defined here, not in
    git_source, so that catching it does not import git machinery on every run."""
