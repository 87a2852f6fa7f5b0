"""Step 1: the e-mail address, and the page that says a link is on its way."""

from datetime import timedelta

from flask import session, url_for

from onboarding import tokens
from onboarding.ratelimit import Limit, RateLimited, hit

from .. import forms
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..mailer import compose, deliver, queue
from ..pages import SESSION_BROWSER, browser_id, client_id, current_draft, external_url, get_db, remembered_email
from ..wizard import FormRejected, Step, bp, rate_limited, show, step

# A link asked for again within the minute: the next page says that no second mail was sent.
SESSION_ALREADY_SENT = "link_already_sent"

# Links to one address from one client per hour; what one client may ask in all; and for
# the address from everywhere only a short cooldown against a flood of mail: an hourly cap
# there could be used up by a few clients together, locking the owner out for an hour.
MAIL_PER_ADDRESS_AND_CLIENT = Limit("mail-address-client", hits=5, window=timedelta(hours=1))
MAIL_PER_CLIENT = Limit("mail-client", hits=30, window=timedelta(hours=1))
MAIL_PER_ADDRESS = Limit("mail-address", hits=3, window=timedelta(minutes=1))
# From every client together: no mailbox gets more than this from here, however many clients ask
# (and no one can keep the owner of the address waiting for more than the hour).
MAIL_PER_ADDRESS_HOURLY = Limit("mail-address-hourly", hits=10, window=timedelta(hours=1))


@step
class EmailStep(Step):
    number = 1
    template = "steps/email.html"
    form_class = forms.EmailForm
    # The next page says what happened; a second message in the live region would repeat it.
    announcement = None

    def load(self, draft):
        return {"email": draft.email}

    def bind(self, draft, formdata=None):
        form = super().bind(draft, formdata)
        if formdata is None and draft is None:
            form.email.data = remembered_email()
        return form

    def save(self, draft, form):
        email = form.email.data
        db = get_db()
        requested_by = tokens.browser_hash(browser_id())
        if tokens.recently_issued(db, email, requested_by):
            # A double click, or asked again at once: no second mail, and the first link stays valid.
            session[SESSION_ALREADY_SENT] = True
            return url_for("wizard.email_sent")
        client = client_id()
        # From inside a draft, the new link moves that draft to the new address.
        draft_id = draft.id if draft else None
        # The mail is made before the write: the write lock is held for the rows alone.
        token = tokens.new_token()
        message = compose(
            "verify",
            email,
            subject=_("Bevestig uw e-mailadres voor uw aanmelding bij VECOZO"),
            links={"link": external_url("access.open_link", token=token)},
            hours=int(tokens.TOKEN_LIFETIME.total_seconds() // 3600),
            draft_id=draft_id,
        )

        def issue_and_queue():
            tokens.issue(db, email, draft_id=draft_id, requested_by=requested_by, token=token)
            return queue(db, message)

        try:
            # One transaction: the hits, the link and its mail in the outbox.
            message_id = hit(db, [(MAIL_PER_ADDRESS_AND_CLIENT, f"{email} {client}"), (MAIL_PER_ADDRESS, email),
                                  (MAIL_PER_ADDRESS_HOURLY, email), (MAIL_PER_CLIENT, client)], then=issue_and_queue)
        except RateLimited as error:
            raise FormRejected(rate_limited(error), status=429, notice=True) from None
        deliver(db, message_id)
        return url_for("wizard.email_sent")


@bp.get("/1/verstuurd")
def email_sent():
    browser = session.get(SESSION_BROWSER)
    sent_to = tokens.last_requested(get_db(), tokens.browser_hash(browser)) if browser else None
    return show(1, current_draft(), template="steps/email_sent.html", title=_l("Kijk in uw mailbox"),
                # Popped only when there: a pop marks the session changed, and the cookie would be sent again.
                sent_to=sent_to, already_sent=SESSION_ALREADY_SENT in session and session.pop(SESSION_ALREADY_SENT))
