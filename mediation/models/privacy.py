"""What each column holds, for the record of processing (GDPR art. 30).

Every column of every table says, in its ``info``, whether it holds personal data
(``info["personal"]``) and, if so, why (``purpose``), on what legal basis (``basis``), who
can see it (``seen_by``) and how long it is kept (``retention``). The admin's page
*Record of processing* is generated from these; a test fails when a column has none.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Processing:
    """One kind of processing of personal data: the same purpose, basis, readers, retention."""

    key: str
    purpose: object
    basis: object
    seen_by: object
    retention: object
    special: bool = False


_PUBLIC_TASK = _l("Public interest task of the school and of the Ambito "
                  "(GDPR art. 6(1)(e)); regional plan co-funded by FAMI")

ACCOUNT = Processing(
    "account", _l("Signing in and writing to the people who use the service"), _PUBLIC_TASK,
    _l("The person; the lead of their school, the coordinator of their Ambito, the admin"),
    _l("As long as the account exists"))
STAFF = Processing(
    "staff", _l("Offering work to mediators: languages, availability, cost"),
    _l("Contract with the mediator's cooperative (GDPR art. 6(1)(b))"),
    _l("The mediator; the coordinators of the Ambiti they serve; the admin"),
    _l("As long as the mediator works in the project; absence reasons until the "
       "retention purge after the absence"))
PUPIL = Processing(
    "pupil", _l("Following a pupil's schooling and the dropout-prevention work, "
                "under a code: never a name"),
    _PUBLIC_TASK,
    _l("The school's teachers and lead; the coordinator; the mediator of the pupil's "
       "requests (code, class, language only); the admin"),
    _l("Until every request about the pupil has ended before the retention date: then "
       "the retention purge replaces the code and clears the rest"))
PUPIL_RESTRICTED = Processing(
    "pupil_restricted", _l("Identifying pupils at risk of dropping out"),
    _l("Public interest in education (GDPR art. 6(1)(e)); the country of origin may "
       "reveal ethnic origin: substantial public interest (GDPR art. 9(2)(g))"),
    _l("The school lead, the coordinator of the Ambito, the admin: never mediators "
       "nor teachers"),
    _l("Cleared by the retention purge once every request about the pupil has ended"),
    special=True)
BOOKING = Processing(
    "booking", _l("Booking mediators, and reporting the hours to the funder"), _PUBLIC_TASK,
    _l("The school, the mediator of the request, the coordinator, the admin"),
    _l("For the project's reporting and audits by the funder (the purge keeps it)"))
FREE_TEXT = Processing(
    "free_text", _l("Notes and reasons written while arranging a meeting"), _PUBLIC_TASK,
    _l("The school, the mediator of the request, the coordinator, the admin"),
    _l("Blanked by the retention purge once the request has ended before the retention "
       "date"))
DOCUMENT = Processing(
    "document", _l("Forms and letters to translate for a family"), _PUBLIC_TASK,
    _l("The school, the mediator who translates it, the coordinator, the admin"),
    _l("The file and its name are deleted by the retention purge once the request has "
       "ended before the retention date"))
AUDIT = Processing(
    "audit", _l("Knowing who did what, for security and accountability"),
    _l("Legal obligation of security and accountability (GDPR art. 5(2) and 32)"),
    _l("The admin"), _l("Kept with the audit trail"))
LOGIN = Processing(
    "login", _l("Keeping people signed in, and showing them where they are signed in"),
    _l("Legal obligation of security (GDPR art. 32)"),
    _l("The person (their own open sessions); the admin"),
    _l("Until logout or expiry (idle and absolute limits); expired ones are deleted at "
       "the next login and by the retention purge"))
EMAIL = Processing(
    "email", _l("Sending emails about bookings"), _PUBLIC_TASK,
    _l("The recipient; the admin and the coordinator of their Ambito (emails not sent)"),
    _l("Sent emails are deleted by the retention purge"))

PROCESSINGS = (ACCOUNT, LOGIN, STAFF, PUPIL, PUPIL_RESTRICTED, BOOKING, FREE_TEXT, DOCUMENT,
               AUDIT, EMAIL)

#: ``info`` of a column that holds no personal data.
NOT_PERSONAL = {"personal": False}


def personal(processing: Processing) -> dict:
    """``info`` of a column holding personal data."""
    return {"personal": True, "processing": processing.key}
