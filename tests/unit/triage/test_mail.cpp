#include <doctest/doctest.h>

#include <string>

#include "triage/mail.hpp"
#include "util/error.hpp"

using namespace certdoctor;
using namespace certdoctor::triage;

TEST_CASE("triage::to_utf8") {
  const std::string text = "コモンネーム : 例え.jp";
  SUBCASE("a right label is used") {
    std::string used;
    // "あ" in Shift_JIS and EUC-JP.
    CHECK(to_utf8("\x82\xa0", "Shift_JIS", &used) == "あ");
    CHECK(used == "CP932");
    CHECK(to_utf8("\xa4\xa2", "euc-jp", &used) == "あ");
    CHECK(to_utf8("\x1b$B$\"\x1b(B", "iso-2022-jp", &used) == "あ");
    CHECK(used == "ISO-2022-JP");
  }
  SUBCASE("UTF-8 wins over a wrong Shift_JIS label") {
    std::string used;
    CHECK(to_utf8(text, "shift_jis", &used) == text);
    CHECK(used == "UTF-8");
  }
  SUBCASE("Shift_JIS labelled ISO-2022-JP is guessed") {
    std::string used;
    CHECK(to_utf8("\x82\xa0\x82\xa2", "iso-2022-jp", &used) == "あい");
    CHECK(used == "CP932");
  }
  SUBCASE("Japanese labelled Latin-1 is read as Japanese") {
    std::string used;
    CHECK(to_utf8("\x82\xa0\x82\xa2", "iso-8859-1", &used) == "あい");
  }
  SUBCASE("bytes that fit nothing are repaired, never dropped wholesale") {
    std::string used;
    std::string out = to_utf8("ok \xff\xfe\x80", "", &used);
    CHECK(out.rfind("ok ", 0) == 0);
    CHECK(used == "UTF-8 (repaired)");
  }
}

TEST_CASE("triage::unquote") {
  CHECK(unquote("> a\n>> b\n | c\nd") == "a\nb\nc\nd");
  CHECK(unquote("") == "");
}

TEST_CASE("triage::looks_like_mail") {
  CHECK(looks_like_mail("From: a@b.jp\nSubject: x\n\nbody"));
  CHECK(looks_like_mail("From a@b.jp Mon Jan  1 00:00:00 2025\nFrom: a@b.jp\nDate: x\n\n"));
  CHECK_FALSE(looks_like_mail("{\"level\":\"error\"}"));
  CHECK_FALSE(looks_like_mail("Name:         web-tls\nNamespace:    default\n"));
  CHECK_FALSE(looks_like_mail("Subject: only one known header\n\n"));
  CHECK_FALSE(looks_like_mail(""));
}

TEST_CASE("triage::parse_mail") {
  SUBCASE("padded B words folded over lines are joined before conversion") {
    // "[さくらインターネット]【重要】" split in two padded UTF-8 B words.
    Mail m = parse_mail(
        "From: support@sakura.ad.jp\nMessage-ID: <a@b>\n"
        "Subject: =?utf-8?b?W+OBleOBj+OCieOCpOODs+OCv+ODvOODjeODg+ODiF3jgJDph40=?=\n =?utf-8?b?6KaB44CR?=\n\nbody\n");
    CHECK(m.messages.at(0).subject == "[さくらインターネット]【重要】");
    CHECK(m.messages.at(0).from == "support@sakura.ad.jp");
    CHECK(m.message_id == "a@b");
  }
  SUBCASE("a multibyte character split across Q words survives") {
    // "あ" is E3 81 82: two bytes in one word, one in the next.
    Mail m = parse_mail("From: a@b.jp\nDate: x\nSubject: =?UTF-8?Q?=E3=81?= =?UTF-8?Q?=82?=\n\n");
    CHECK(m.messages.at(0).subject == "あ");
  }
  SUBCASE("text between encoded words keeps its spaces") {
    Mail m = parse_mail("From: a@b.jp\nDate: x\nSubject: Re: =?UTF-8?B?44GC?= and more\n\n");
    CHECK(m.messages.at(0).subject == "Re: あ and more");
  }
  SUBCASE("quoted forward headers become a message of their own") {
    Mail m = parse_mail("From: c@d.jp\nDate: x\nSubject: Fwd: hello\n\n> From: Sakura <support@sakura.ad.jp>\n> 件名: notice\n> text\n");
    REQUIRE(m.messages.size() == 2);
    CHECK(m.messages[1].origin == "quoted");
    CHECK(m.messages[1].from == "support@sakura.ad.jp");
    CHECK(m.messages[1].subject == "notice");
    CHECK(m.body.find("> text") == std::string::npos);
  }
  SUBCASE("binary attachments are counted, not decoded") {
    Mail m = parse_mail(
        "From: a@b.jp\nDate: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=X\n\n--X\n"
        "Content-Type: text/plain\n\nhello\n--X\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n\n"
        "AAAAAAAAAAAA\n--X--\n");
    CHECK(m.body == "hello\n");
    CHECK(m.skipped_bytes > 0);
  }
  SUBCASE("not a mail") {
    CHECK_THROWS_WITH_AS(parse_mail("hello"), "the input is not an e-mail: it does not begin with a header line (Name: value)",
                         Error);
  }
}
