"""Validate publiccode.yml against the publiccode.yml standard, version 0.4.

Usage: publiccode.py [PATH]   (default: publiccode.yml at the repository's root)

Developers Italia's own validator (publiccode-parser-go) is a Go program, and neither Go
modules nor its releases can be fetched on this machine, so this script checks the rules
of the standard that apply to our file: the mandatory keys, the controlled vocabularies
(platforms, categories, development status, software type, scope, maintenance type), the
lengths of the descriptions, dates, BCP 47 language tags, the SPDX licence and the Italian
section (``it``). It exits 1 with one line per problem, 0 when the file is valid.
"""

import re
import sys
from datetime import date
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError

ROOT = Path(__file__).resolve().parent.parent

VERSIONS = {"0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0"}
DEVELOPMENT_STATUS = {"concept", "development", "beta", "stable", "obsolete"}
SOFTWARE_TYPES = {"standalone/mobile", "standalone/iot", "standalone/desktop", "standalone/web",
                  "standalone/backend", "standalone/other", "addon", "library",
                  "configurationFiles"}
MAINTENANCE_TYPES = {"internal", "contract", "community", "none"}
SCOPES = {"agriculture", "culture", "defence", "education", "emergency-services", "employment",
          "energy", "environment", "finance-and-economic-development", "foreign-affairs",
          "government", "healthcare", "infrastructures", "justice", "local-authorities",
          "manufacturing", "research", "science-and-technology", "security", "society",
          "sport", "tourism", "transportation", "welfare"}
CATEGORIES = {
    "accounting", "agile-project-management", "applicant-tracking", "application-development",
    "appointment-scheduling", "backup", "billing-and-invoicing", "blog", "budgeting",
    "business-intelligence", "business-process-management", "cad", "call-center-management",
    "cloud-management", "collaboration", "communications", "compliance-management",
    "contact-management", "content-management", "crm", "customer-service-and-support",
    "data-analytics", "data-collection", "data-visualization", "design", "design-system",
    "digital-asset-management", "digital-citizenship", "document-management",
    "donor-management", "e-commerce", "e-signature", "educational-content", "email-management",
    "email-marketing", "employee-management", "enterprise-project-management",
    "enterprise-social-networking", "erp", "event-management", "facility-management",
    "feedback-and-reviews-management", "financial-reporting", "fleet-management",
    "fundraising", "gamification", "geographic-information-systems", "grant-management",
    "graphic-design", "help-desk", "hr", "ide", "identity-management", "instant-messaging",
    "integrated-library-system", "inventory-management", "it-asset-management",
    "it-development", "it-management", "it-security", "it-service-management",
    "knowledge-management", "learning-management-system", "marketing", "mind-mapping",
    "mobile-marketing", "mobile-payment", "network-management", "office", "online-booking",
    "online-community", "payment-gateway", "payroll", "predictive-analysis", "procurement",
    "productivity-suite", "project-collaboration", "project-management",
    "property-management", "real-estate-management", "regulations-and-directives",
    "remote-support", "resource-management", "sales-management", "seo", "service-desk",
    "social-media-management", "survey", "talent-management", "task-management",
    "taxes-management", "test-management", "time-management", "time-tracking", "translation",
    "video-conferencing", "video-editing", "visitor-management", "voip",
    "warehouse-management", "web-collaboration", "web-conferencing", "website-builder",
    "whistleblowing", "workflow-management", "other"}
#: The licences a public body may reuse under (the SPDX identifiers we may meet).
SPDX = {"EUPL-1.2", "EUPL-1.1", "AGPL-3.0-only", "AGPL-3.0-or-later", "GPL-3.0-only",
        "GPL-3.0-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "MIT", "Apache-2.0",
        "BSD-3-Clause", "BSD-2-Clause", "MPL-2.0"}
IT_CONFORME = {"lineeGuidaDesign", "modelloInteroperabilita", "misureMinimeSicurezza", "gdpr"}
IT_PIATTAFORME = {"spid", "cie", "anpr", "pagopa", "io"}
URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate(data) -> list[str]:
    problems: list[str] = []

    def need(mapping, key, where, kind=None):
        if not isinstance(mapping, dict) or key not in mapping:
            problems.append(f"{where}{key}: missing (mandatory)")
            return None
        value = mapping[key]
        if kind is not None and not isinstance(value, kind):
            problems.append(f"{where}{key}: must be a {getattr(kind, '__name__', kind)}")
            return None
        return value

    def one_of(value, allowed, where):
        if value is not None and value not in allowed:
            problems.append(f"{where}: {value!r} is not one of the standard's values")

    def language_tag(tag, where):
        try:
            Locale.parse(str(tag).replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            problems.append(f"{where}: {tag!r} is not a BCP 47 language tag")

    if not isinstance(data, dict):
        return ["the file is not a YAML mapping"]
    one_of(need(data, "publiccodeYmlVersion", "", str), VERSIONS, "publiccodeYmlVersion")
    need(data, "name", "", str)
    url = need(data, "url", "", str)
    if url and not URL.match(url):
        problems.append("url: not an http(s) URL")
    release = data.get("releaseDate")
    if release is not None:
        try:
            date.fromisoformat(str(release))
        except ValueError:
            problems.append("releaseDate: not a date as YYYY-MM-DD")
    platforms = need(data, "platforms", "", list)
    if platforms is not None and not platforms:
        problems.append("platforms: at least one")
    for category in need(data, "categories", "", list) or []:
        one_of(category, CATEGORIES, "categories")
    one_of(need(data, "developmentStatus", "", str), DEVELOPMENT_STATUS, "developmentStatus")
    one_of(need(data, "softwareType", "", str), SOFTWARE_TYPES, "softwareType")
    for scope in (data.get("intendedAudience") or {}).get("scope", []):
        one_of(scope, SCOPES, "intendedAudience.scope")

    description = need(data, "description", "", dict) or {}
    if not description:
        problems.append("description: at least one language")
    for lang, text in description.items():
        where = f"description.{lang}."
        language_tag(lang, f"description.{lang}")
        short = need(text, "shortDescription", where, str)
        if short is not None and len(short) > 150:
            problems.append(f"{where}shortDescription: {len(short)} characters, at most 150")
        long = need(text, "longDescription", where, str)
        if long is not None and not 150 <= len(long) <= 10000:
            problems.append(f"{where}longDescription: {len(long)} characters, 150 to 10000")
        generic = text.get("genericName") if isinstance(text, dict) else None
        if generic is not None and len(generic) > 35:
            problems.append(f"{where}genericName: at most 35 characters")
        features = need(text, "features", where, list)
        for feature in features or []:
            if not isinstance(feature, str) or len(feature) > 100:
                problems.append(f"{where}features: each a string of at most 100 characters")
        for key in ("documentation", "apiDocumentation"):
            if key in text and not URL.match(str(text[key])):
                problems.append(f"{where}{key}: not an http(s) URL")

    legal = need(data, "legal", "", dict)
    if legal is not None:
        one_of(need(legal, "license", "legal.", str), SPDX, "legal.license")

    maintenance = need(data, "maintenance", "", dict)
    if maintenance is not None:
        kind = need(maintenance, "type", "maintenance.", str)
        one_of(kind, MAINTENANCE_TYPES, "maintenance.type")
        if kind in ("internal", "community"):
            contacts = need(maintenance, "contacts", "maintenance.", list) or []
            if not contacts:
                problems.append("maintenance.contacts: at least one for internal maintenance")
            for contact in contacts:
                need(contact, "name", "maintenance.contacts[].", str)
                if "email" in contact and not EMAIL.match(str(contact["email"])):
                    problems.append("maintenance.contacts[].email: not an email address")

    localisation = need(data, "localisation", "", dict)
    if localisation is not None:
        need(localisation, "localisationReady", "localisation.", bool)
        languages = need(localisation, "availableLanguages", "localisation.", list) or []
        if not languages:
            problems.append("localisation.availableLanguages: at least one")
        for tag in languages:
            language_tag(tag, "localisation.availableLanguages")

    italy = data.get("it")
    if italy is not None:
        one_of(need(italy, "countryExtensionVersion", "it.", str), {"0.2", "1.0"},
               "it.countryExtensionVersion")
        for section, keys in (("conforme", IT_CONFORME), ("piattaforme", IT_PIATTAFORME)):
            for key, value in (italy.get(section) or {}).items():
                if key not in keys:
                    problems.append(f"it.{section}.{key}: not a key of the Italian section")
                elif not isinstance(value, bool):
                    problems.append(f"it.{section}.{key}: must be true or false")
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else ROOT / "publiccode.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    problems = validate(data)
    for problem in problems:
        print(f"{path.name}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{path.name}: valid (publiccode.yml {data['publiccodeYmlVersion']})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
