"""Deleting purged documents' files, after the purge is committed."""

import click

from ..documents import upload_folder


def delete_files(storage_names: list[str]) -> int:
    """Delete the files; return how many were deleted (a missing file is already gone)."""
    folder = upload_folder()
    deleted = 0
    for name in storage_names:
        path = folder / name
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            pass
        except OSError as error:  # the rows are anonymised: say so, go on with the rest
            click.echo(f"could not delete {path}: {error}", err=True)
    return deleted
