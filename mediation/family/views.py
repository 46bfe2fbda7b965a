"""The family's page, opened from the letter's QR code or short link, without login.

It shows the meeting as the letter does (date, time, place, purpose; never the pupil's
code) in the family's language beside Italian, and takes one of three answers. An unknown,
malformed, expired or cancelled link is the site's ordinary 404 page.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from ..extensions import csrf, db, limiter
from ..models import FamilyAnswer, utcnow
from ..requests import letter as letters
from . import operations

bp = Blueprint("family", __name__, url_prefix="/f")


def _limit():
    return current_app.config["RATELIMIT_FAMILY_LINK"]


@bp.errorhandler(RateLimitExceeded)
def throttled(error):
    db.session.rollback()
    return render_template(
        "errors/error.html", code=429, title=_("Too many attempts"),
        message=_("Too many attempts. Please wait a few minutes and try again.")), 429


def _halves(invitation):
    req = invitation.request
    appointment = invitation.assignment
    code = request.args.get("lang") or letters.written_language(req.language)
    halves = []
    if code != letters.ITALIAN and code in letters.family_languages():
        halves.append(letters.half(code, req, appointment))
    halves.append(letters.half(letters.ITALIAN, req, appointment))
    return halves


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(_limit)
@csrf.exempt  # the token in the address is the secret: no session, no cookie needed
def answer(token: str):
    try:
        invitation = operations.find(token, utcnow())
    except operations.LinkClosed:
        abort(404)
    if request.method == "POST":
        try:
            value = FamilyAnswer(request.form.get("answer", ""))
        except ValueError:
            abort(400)
        try:
            operations.answer(token, value, utcnow())
        except operations.LinkClosed:
            abort(404)
        db.session.commit()
        return redirect(url_for("family.answer", token=token, lang=request.args.get("lang"),
                                done=1), code=303)
    response = make_response(render_template(
        "family/answer.html", invitation=invitation, token=token, req=invitation.request,
        halves=_halves(invitation), done=request.args.get("done") == "1"))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
