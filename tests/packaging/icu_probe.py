"""Print, as JSON, everything Qt answers from ICU data: collation, charset converters, time-zone
names (in English, the app's language) and case mapping. Run in a subprocess, with LD_PRELOAD naming
the ICU data library under test, by test_icu_data.py."""

from __future__ import annotations

import functools
import json

from PySide6.QtCore import (
    QCollator,
    QCoreApplication,
    QDateTime,
    QLocale,
    QStringConverter,
    QStringEncoder,
    QTimeZone,
)

WORDS = [
    "Äpfel", "Zebra", "apfel", "Ångström", "ähnlich", "Öl", "zebra", "李", "张", "Ёж", "Ель", "ça", "côte",
]  # fmt: skip
LOCALES = ["de_DE", "sv_SE", "zh_CN", "ja_JP", "ru_RU", "fr_FR", "en_US", "C"]
CODECS = ["Shift_JIS", "GB18030", "windows-1251", "KOI8-R", "Big5", "EUC-KR", "ISO-8859-7", "windows-1252"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Moscow", "Australia/Sydney"]


def probe() -> dict[str, object]:
    app = QCoreApplication([])  # noqa: F841 - Qt wants one
    answers: dict[str, object] = {"codecs": sorted(QStringConverter.availableCodecs())}
    for locale in LOCALES:
        collator = QCollator(QLocale(locale))
        answers[f"sorted {locale}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
    for codec in CODECS:
        encoder = QStringEncoder(codec)
        answers[f"codec {codec}"] = [encoder.isValid(), encoder.name()]
    moment = QDateTime.fromSecsSinceEpoch(1_790_000_000)
    for zone_id in ZONES:
        zone = QTimeZone(zone_id.encode())
        answers[f"zone {zone_id}"] = [
            zone.displayName(moment, QTimeZone.NameType.LongName, QLocale("en_US")),
            zone.displayName(moment, QTimeZone.NameType.ShortName, QLocale("en_GB")),
            zone.displayName(moment, QTimeZone.NameType.OffsetName, QLocale("de_DE")),
            zone.offsetFromUtc(moment),
        ]
    answers["upper tr"] = QLocale("tr_TR").toUpper("istanbul")
    answers["upper de"] = QLocale("de_DE").toUpper("straße")
    return answers


if __name__ == "__main__":
    print(json.dumps(probe(), ensure_ascii=False, sort_keys=True))
