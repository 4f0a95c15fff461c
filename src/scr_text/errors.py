"""Errors a user can cause. The CLI prints them as one sentence, never a traceback."""


class UserError(Exception):
    """Bad input, bad configuration or a refused operation: shown to the user as is."""


class IngestError(UserError):
    """A file that cannot be read as a review. ``path`` names it; the message says why."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DuplicateDocument(IngestError):
    """The file's content is already in the store under another document id."""

    def __init__(self, path: str, existing_doc_id: str):
        super().__init__(path, f"duplicate of already stored document '{existing_doc_id}', skipped")
        self.existing_doc_id = existing_doc_id
