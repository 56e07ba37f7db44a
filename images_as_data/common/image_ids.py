"""Image ids: a file's path relative to its image folder, as POSIX text that every CSV can hold,
in Unicode NFC (names copied from macOS are NFD: the same text, other code points)."""

import unicodedata


def image_id_problem(image_id: str) -> str | None:
    """Return why ``image_id`` is not a usable id (relative POSIX path), or None if it is."""
    if not image_id:
        return "empty"
    try:
        image_id.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8"
    if "\\" in image_id:
        return "contains a backslash"
    if any(ord(char) < 32 or ord(char) == 127 for char in image_id):
        return "contains a control character (e.g. a newline or tab)"
    if image_id.startswith("/"):
        return "is an absolute path"
    parts = image_id.split("/")
    if any(part in ("..", ".", "") for part in parts):
        return "contains '.', '..' or empty path components"
    if any(part != part.strip() for part in parts):
        return "a path component begins or ends with whitespace"
    return None


def printable_id(image_id: str) -> str:
    """Make an id writable to a UTF-8 CSV: undecodable bytes become ``\\xNN`` escapes."""
    return image_id.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def normalise_id(image_id: str) -> str:
    """The id in Unicode NFC, the form ids are compared in (inventory and annotation sheets)."""
    return unicodedata.normalize("NFC", image_id)
