"""Reading CSV files: the workflow's own outputs, and sheets researchers bring (any spreadsheet's
encoding: UTF-8 with or without a byte-order mark, UTF-16 with one, or Windows-1252)."""

from __future__ import annotations

import codecs
import io
import logging
import os

import pandas as pd

from .image_ids import normalise_id

log = logging.getLogger(__name__)

SAVE_AS_UTF8 = (
    "save the sheet as UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; "
    "in LibreOffice: character set 'Unicode (UTF-8)') and rerun"
)


class UserFileError(ValueError):
    """A file the researcher supplied cannot be read; the message names the file, row and fix."""


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a workflow CSV with every value as text (empty cells stay empty strings)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _row_of(data: bytes, position: int) -> int:
    """Spreadsheet row (the header is row 1) of a byte offset."""
    return data.count(b"\n", 0, position) + 1


def decode_sheet(data: bytes, path: str | os.PathLike) -> str:
    """Text of a sheet: by its byte-order mark if it has one, else UTF-8, else Windows-1252
    (what Excel writes on Windows for 'CSV'), logged. Undecodable bytes stop the run with the row."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise UserFileError(
                    f"{path}, row {_row_of(data, error.start)}: not valid {encoding.upper()} although the file starts "
                    f"with its byte-order mark (byte 0x{data[error.start]:02x}); {SAVE_AS_UTF8}"
                ) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        row, byte = _row_of(data, error.start), data[error.start]
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise UserFileError(
            f"{path}, row {_row_of(data, error.start)}: byte 0x{data[error.start]:02x} is neither UTF-8 nor "
            f"Windows-1252 (cp1252) text (the first non-UTF-8 byte is 0x{byte:02x} in row {row}); {SAVE_AS_UTF8}"
        ) from error
    log.warning(
        "%s is not UTF-8 (first in row %d, byte 0x%02x); read it as Windows-1252 (cp1252), the encoding of "
        "Excel's 'CSV' on Windows. If accented names look wrong in the outputs, %s",
        path, row, byte, SAVE_AS_UTF8,
    )  # fmt: skip
    return text


def read_user_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A researcher's CSV (annotations, metadata, a list of images) with every value as text.

    Header names and values are stripped of surrounding spaces; ``image_id`` values are put in
    Unicode NFC, the form the inventory uses (file names copied from macOS are NFD).
    """
    path = str(path)
    with open(path, "rb") as handle:
        text = decode_sheet(handle.read(), path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as error:
        raise UserFileError(f"{path}: the file is empty; row 1 must be a header") from error
    except pd.errors.ParserError as error:
        raise UserFileError(f"{path}: not a CSV table ({error}); check the separators and quotes of the row it names") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    if "image_id" in frame.columns:
        frame["image_id"] = frame["image_id"].map(normalise_id)
    return frame
