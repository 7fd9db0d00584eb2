"""Where a downloaded file goes, and how it gets there whole or not at all.

A file is downloaded into a local *staging* file: for a local destination a hidden
``.<name>.<random>.vobiz-part`` beside it (same folder, so the final ``os.replace`` is atomic);
for an object-store destination a file in the system temp folder (seekable, for resumes and for
mutagen), uploaded after verification with one PUT straight to the destination's key. An object
store makes an upload visible only once it is complete (S3's PUT and multipart completion are
atomic), so no temporary object is needed, and without ``overwrite`` the PUT is conditional
(``If-None-Match: *`` on S3) so a file that appeared meanwhile is never replaced. Every failure
removes the staging file and any folder created for it. A process killed outright (SIGKILL, a
lost worker) cleans nothing up: its local staging file is locked while it writes, so the next
download of the same destination finds it unlocked and removes it.

A destination may end in a ``{format}`` placeholder (``/meetings/standup.{format}``): the file
is named for the format its bytes have (``standup.wav``), decided after the download. A
``{recording_id}`` in the file's name becomes the recording's id before any request, so a
download mapped over a meeting's parts writes one file per part.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar

from vobiz_provider.exceptions import DestinationExistsError, VobizConfigError

if TYPE_CHECKING:
    from vobiz_provider.version_compat import ObjectStoragePath

_T = TypeVar("_T")
TEMP_SUFFIX = ".vobiz-part"
LOCAL_PROTOCOLS = ("file", "local")
READ_CHUNK = 1024 * 1024
# Replaced in the destination's file name by the format detected from the bytes ("wav", "mp3").
FORMAT_PLACEHOLDER = "{format}"
# Replaced in the destination's file name by the recording's id, before the download.
RECORDING_ID_PLACEHOLDER = "{recording_id}"
_PLACEHOLDERS = ("format", "recording_id")
# Hard links are how a file is placed without clobbering; these mean the filesystem has none.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK})


@dataclass(frozen=True)
class Destination:
    """A file's location: on the worker's filesystem (``local`` set) or in an object store.

    :param target: the location as an ``ObjectStoragePath``.
    :param local: the absolute local path, or None for an object store.
    """

    target: ObjectStoragePath
    local: Path | None

    @property
    def location(self) -> str:
        """What XCom reports: the absolute local path, or the URL."""
        return str(self.local) if self.local is not None else str(self.target)

    @property
    def names_format(self) -> bool:
        """Whether the file name holds the ``{format}`` placeholder, decided by the bytes."""
        return FORMAT_PLACEHOLDER in self.target.name

    def named(self, audio_format: str) -> Destination:
        """The destination with ``{format}`` replaced by ``audio_format``; itself when it has none."""
        if not self.names_format:
            return self
        name = self.target.name.replace(FORMAT_PLACEHOLDER, audio_format)
        return Destination(
            self.target.parent / name,
            None if self.local is None else self.local.with_name(name),
        )

    def for_recording(self, recording_id: str) -> Destination:
        """The destination with ``{recording_id}`` replaced by ``recording_id``; itself when it has none.

        :raises VobizConfigError: when the id cannot be part of a file name (a slash, a leading dot).
        """
        if RECORDING_ID_PLACEHOLDER not in self.target.name:
            return self
        if not recording_id or "/" in recording_id or "\\" in recording_id or recording_id.startswith("."):
            raise VobizConfigError(
                f"destination {str(self.target)!r} names the file by {RECORDING_ID_PLACEHOLDER}, but the "
                f"recording's id {recording_id!r} cannot be part of a file name (a slash, or a leading dot)"
            )
        name = self.target.name.replace(RECORDING_ID_PLACEHOLDER, recording_id)
        return Destination(
            self.target.parent / name,
            None if self.local is None else self.local.with_name(name),
        )

    def existing_size(self) -> int | None:
        """The size of the file already there, or None when there is none."""
        if self.local is not None:
            try:
                return self.local.stat().st_size
            except FileNotFoundError:
                return None
        fs = self.target.fs
        return int(fs.size(self.target.path)) if fs.exists(self.target.path) else None

    def existing_sha256(self) -> str:
        """sha256 of the file already there, read in chunks."""
        if self.local is not None:
            with open(self.local, "rb") as handle:
                return file_sha256(handle)
        with self.target.fs.open(self.target.path, "rb") as handle:
            return file_sha256(handle)


def resolve_destination(value: Any) -> Destination:
    """Check the ``destination`` argument: an absolute path, a ``file://`` or object-store URL,
    or an ``ObjectStoragePath``, naming a file (not a folder). Raises :class:`VobizConfigError`.
    """
    from vobiz_provider.version_compat import ObjectStoragePath

    def bad(problem: str) -> VobizConfigError:
        return VobizConfigError(f"destination {value!r} {problem}")

    if isinstance(value, ObjectStoragePath):
        target = value
        _check_placeholders(str(value), bad)
        _check_no_parent(str(value), bad)
    elif isinstance(value, (str, os.PathLike)):
        text = os.fspath(value).strip()
        if not text:
            raise bad("is empty; give the file's absolute path or an object-storage URL")
        if text.endswith(("/", os.sep)):
            raise bad("ends with a slash; destination names the file itself, not a folder")
        if "://" not in text and not os.path.isabs(text):
            raise bad("is a relative path; give an absolute path or a URL such as file:///data/x.wav")
        _check_placeholders(text, bad)
        _check_no_parent(text, bad)
        try:
            target = ObjectStoragePath(text)
        except ValueError as err:  # an unknown scheme fails here already
            raise bad(f"cannot be opened: {err}") from None
    else:
        raise bad(f"is a {type(value).__name__}; expected a path, a URL or an ObjectStoragePath")
    if target.protocol in LOCAL_PROTOCOLS or not target.protocol:
        local = Path(target.path)
        if not local.is_absolute():
            raise bad("is a relative path; give an absolute path or a URL such as file:///data/x.wav")
        if local.is_dir():
            raise bad("is a folder; destination names the file itself")
        return Destination(target, local)
    if not target.key or target.key.endswith("/"):
        raise bad("names no file inside the store; destination names the file itself")
    try:
        target.fs  # noqa: B018 - resolving the filesystem now turns an unknown scheme into a clear error
    except (ValueError, ImportError) as err:
        advice = f"install the Airflow provider for {target.protocol!r} or attach() a filesystem for it"
        raise bad(f"cannot be opened: {err}; {advice}") from None
    return Destination(target, None)


def _check_no_parent(text: str, bad: Callable[[str], VobizConfigError]) -> None:
    """No ``..`` segment: a rendered value (a room's name, a param) must not lead out of the folder meant."""
    if ".." in text.replace(os.sep, "/").split("/"):
        raise bad("has a '..' segment, which would lead out of its folder; give the path without it")


def _check_placeholders(text: str, bad: Callable[[str], VobizConfigError]) -> None:
    """Braces in a destination are for ``{format}`` and ``{recording_id}`` alone, and only in the file's name."""
    if "{" not in text and "}" not in text:
        return
    known = f"{FORMAT_PLACEHOLDER} (the format detected from the bytes: wav or mp3) and {RECORDING_ID_PLACEHOLDER}"
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as err:
        raise bad(f"has unbalanced braces ({err}); the only placeholders are {known}") from None
    unknown = sorted({f"{{{field}}}" for field in fields if field not in _PLACEHOLDERS})
    spec = [name for name in _PLACEHOLDERS if f"{{{name}!" in text or f"{{{name}:" in text]
    if unknown or spec:
        shown = ", ".join(unknown) or f"a {{{spec[0]}}} with a conversion or spec"
        raise bad(f"has an unknown placeholder {shown}; the only placeholders are {known}")
    folder = text.rstrip("/").rsplit("/", 1)[0]
    for placeholder in (FORMAT_PLACEHOLDER, RECORDING_ID_PLACEHOLDER):
        if placeholder in folder:
            raise bad(f"has {placeholder} in a folder; it may only appear in the file's name")


def file_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(READ_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


class Staging:
    """A local file to download into, placed at ``destination`` only by :meth:`place`.

    Use as a context manager: leaving it without a successful :meth:`place` (an error, or a
    verified file that is not wanted) removes the staging file and any folder made for it.

    :param destination: where the file goes.
    """

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.path: Path | None = None
        self.file: BinaryIO | None = None
        self._made_dirs: list[Path] = []
        self._placed = False

    def __enter__(self) -> Staging:
        local = self.destination.local
        try:
            if local is not None:
                self._made_dirs = _make_parents(local.parent)
                self.path, self.file = _create_beside(local)
            else:
                fd, name = tempfile.mkstemp(prefix="vobiz-", suffix=TEMP_SUFFIX)
                self.path, self.file = Path(name), os.fdopen(fd, "r+b")
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._cleanup()

    @property
    def sink(self) -> BinaryIO:
        """The staging file, open for writing and reading."""
        return _inside(self.file)

    def finish_writing(self) -> None:
        """Flush the bytes to disk, so they can be read by path and survive a crash after the move."""
        self.sink.flush()
        os.fsync(self.sink.fileno())

    def place(self, *, overwrite: bool, target: Destination | None = None) -> None:
        """Move the staged file to the destination (or ``target``, the destination once named for
        its format: same folder), replacing a file there only with ``overwrite``.
        """
        target = target or self.destination
        self.finish_writing()
        if target.local is not None:
            _place_local(self.staged, target.local, overwrite=overwrite)
        else:
            _place_remote(self.staged, target.target, overwrite=overwrite)
        self._placed = True

    @property
    def staged(self) -> Path:
        """The staging file's local path."""
        return _inside(self.path)

    def _cleanup(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.path is not None:
            # After a local placement the name is gone already (renamed or unlinked).
            self.path.unlink(missing_ok=True)
        if not self._placed:
            for folder in reversed(self._made_dirs):
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: someone else wrote there meanwhile
        self.path = None


def _inside(value: _T | None) -> _T:
    if value is None:
        raise RuntimeError("Staging is used outside its with-block")
    return value


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing ancestors; returns the ones created, outermost first."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _temp_name(name: str) -> str:
    # A long name is cut so the temporary still fits the usual 255-byte limit.
    short = os.fsencode(name)[:200].decode(errors="ignore")
    return f".{short}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


_TEMP_TAIL = len(secrets.token_hex(6) + TEMP_SUFFIX)  # what _temp_name adds after ".<name>."


def _create_beside(destination: Path) -> tuple[Path, BinaryIO]:
    """A new hidden file next to ``destination``, locked while open; O_EXCL, and the umask decides its mode."""
    _remove_abandoned(destination)
    path = destination.with_name(_temp_name(destination.name))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    # The kernel drops the lock when the file is closed or its process dies, however it dies.
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return path, os.fdopen(fd, "r+b")


def _remove_abandoned(destination: Path) -> None:
    """Remove staging files of ``destination`` that no live download holds (their writer was killed)."""
    ours = re.compile(re.escape(_temp_name(destination.name)[:-_TEMP_TAIL]) + r"[0-9a-f]{12}" + re.escape(TEMP_SUFFIX))
    try:
        names = [name for name in os.listdir(destination.parent) if ours.fullmatch(name)]
    except FileNotFoundError:
        return
    for name in names:
        path = destination.parent / name
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a download in progress holds it
        else:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def exists_error(location: str, detail: str = "") -> DestinationExistsError:
    """The refusal to replace a different file, naming it and the way out."""
    detail = f" ({detail})" if detail else ""
    return DestinationExistsError(
        f"destination {location} already holds a different file{detail}; set overwrite=True to replace it"
    )


def _place_local(staged: Path, destination: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(staged, destination)
        return
    try:
        # link() refuses an existing name, so a file that appeared meanwhile is never clobbered.
        os.link(staged, destination)
    except FileExistsError:
        raise exists_error(str(destination)) from None
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        if destination.exists():
            raise exists_error(str(destination)) from None
        os.replace(staged, destination)
        return
    staged.unlink()


def _place_remote(staged: Path, target: ObjectStoragePath, *, overwrite: bool) -> None:
    """One PUT of the verified file to its key: the object appears whole when the upload completes.

    Without ``overwrite`` the PUT is made in fsspec's ``"create"`` mode: s3fs sends
    ``If-None-Match: *``, so S3 itself refuses to replace an object that appeared since the check.
    """
    fs = target.fs
    if overwrite:
        fs.put_file(str(staged), target.path)
        return
    if fs.exists(target.path):
        raise exists_error(str(target))
    try:
        fs.put_file(str(staged), target.path, mode="create")
    except FileExistsError:
        raise exists_error(str(target)) from None
