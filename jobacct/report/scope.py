"""The filters every report takes: cluster, account, user, partition (SQL: :mod:`.sql`).

Reports are site reports, like sreport's: every user's jobs are in scope unless ``--user``
narrows them. A user is a name, or a number taken as a uid. Values are comma lists; an empty
list item is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobacct.errors import UsageError
from jobacct.users import numeric_id


def split_list(text: str | None) -> list[str] | None:
    """``a,b`` -> ``["a", "b"]``; None when the option was not given."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Scope:
    """The selection filters; None means "not given" (no restriction)."""

    clusters: list[str] | None = None
    accounts: list[str] | None = None
    users: list[str] | None = None
    partitions: list[str] | None = None

    @classmethod
    def parse(
        cls,
        *,
        clusters: str | None = None,
        accounts: str | None = None,
        users: str | None = None,
        partitions: str | None = None,
    ) -> Scope:
        """A scope from the options' comma lists.

        Raises:
            UsageError: for a uid above 4294967295.
        """
        user_list = split_list(users)
        for user in user_list or ():
            try:
                numeric_id(user)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        return cls(split_list(clusters), split_list(accounts), user_list,
                   split_list(partitions))  # fmt: skip

    def as_dict(self) -> dict[str, list[str]]:
        """The given filters by name (for headers, JSON and the mail's Message-ID)."""
        given = {
            "cluster": self.clusters,
            "account": self.accounts,
            "user": self.users,
            "partition": self.partitions,
        }
        return {name: values for name, values in given.items() if values is not None}
