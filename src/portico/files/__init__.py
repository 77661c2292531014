"""Uploaded files (``/v1/files``): a BlobStore seam for bytes, metadata in the storage database."""

from portico.files.access import Owner, owner_of
from portico.files.blobs import BlobStore, LocalBlobStore
from portico.files.catalog import FileCatalog
from portico.files.records import ANONYMOUS, PURPOSES, UPLOAD_PURPOSES, FileObject, FilePage
from portico.files.service import FileService
from portico.files.settings import FilesSettings

__all__ = [
    "ANONYMOUS",
    "PURPOSES",
    "UPLOAD_PURPOSES",
    "BlobStore",
    "FileCatalog",
    "FileObject",
    "FilePage",
    "FileService",
    "FilesSettings",
    "LocalBlobStore",
    "Owner",
    "owner_of",
]
