#!/usr/bin/env python3
"""Writes the triage test corpus (tests/triage/corpus/) as bytes on disk.

The mails are composed here, in their real charsets and transfer encodings, so that the
committed files carry the exact bytes a mail system would deliver (ISO-2022-JP, Shift_JIS,
EUC-JP, UTF-8; 7bit, 8bit, base64, quoted-printable; RFC 2047 subjects, folded). The texts are
written for these tests; subjects, labels and schedules follow the providers' published facts.
Run it again after changing a case:  tests/triage/make_corpus.py
"""
import base64
import os
import quopri
import sys
from email.header import Header

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

CODEC = {"iso-2022-jp": "iso2022_jp", "shift_jis": "shift_jis", "euc-jp": "euc_jp", "utf-8": "utf-8"}


def subject_header(text, charset, q=False):
    """An RFC 2047 Subject, folded over several encoded words when long."""
    if charset is None:
        return text.encode("utf-8")
    h = Header(text, charset=charset, maxlinelen=76, header_name="Subject")
    out = h.encode(linesep="\n")
    if q:
        # Header() picks B for Japanese charsets; build Q words by hand for the Q case.
        raw = text.encode(CODEC[charset])
        words, cur = [], ""
        for b in raw:
            ch = chr(b)
            if ch.isalnum() and b < 128:
                piece = ch
            elif ch == " ":
                piece = "_"
            else:
                piece = "=%02X" % b
            if len(cur) + len(piece) > 40:
                words.append(cur)
                cur = ""
            cur += piece
        words.append(cur)
        out = "\n ".join("=?%s?Q?%s?=" % (charset.upper(), w) for w in words)
    return out.encode("ascii")


def body_bytes(text, charset, cte):
    raw = text.encode(CODEC[charset])
    if cte == "base64":
        return base64.encodebytes(raw)
    if cte == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


def mail(headers, body, charset="utf-8", cte="8bit", subject=None, subject_charset=None, q=False, label=None,
         content_type="text/plain"):
    lines = []
    for k, v in headers:
        lines.append(("%s: %s" % (k, v)).encode("utf-8"))
    if subject is not None:
        lines.append(b"Subject: " + subject_header(subject, subject_charset, q))
    lines.append(b"MIME-Version: 1.0")
    lines.append(("Content-Type: %s; charset=%s" % (content_type, label or charset)).encode("ascii"))
    lines.append(("Content-Transfer-Encoding: %s" % cte).encode("ascii"))
    return b"\n".join(lines) + b"\n\n" + body_bytes(body, charset, cte)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


SAKURA_FROM = "さくらインターネット <support@sakura.ad.jp>"
XSERVER_FROM = "Xserver Support <support@xserver.ne.jp>"


def h(sender, msgid, to="owner@example-shop.jp", date="Mon, 10 Mar 2025 09:12:00 +0900"):
    return [("From", Header(sender.split(" <")[0], "utf-8").encode() + " <" + sender.split("<")[1] if "<" in sender else sender),
            ("To", to), ("Date", date), ("Message-ID", "<%s>" % msgid)]


def sakura_block(cn, account="shopowner"):
    return ("━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
            "【証明書の情報】\n"
            "レンタルサーバアカウント : %s\n"
            "証明書の種類 : Let's Encrypt(無料SSL)\n"
            "コモンネーム : %s\n"
            "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n" % (account, cn))


RENEWAL_ERROR_BODY = (
    "さくらインターネットをご利用いただきありがとうございます。\n\n"
    "お使いの無料SSLについて、自動更新に失敗したため新しい証明書を発行できませんでした。\n"
    "対象の証明書は以下のとおりです。\n\n" + "%s\n"
    "自動での更新は一度だけ行っています。原因を確認して設定を見直したあと、\n"
    "コントロールパネルから更新の手続きをもう一度行ってください。\n"
    "手順はサポートサイト https://help.sakura.ad.jp/ をご覧ください。\n\n"
    "さくらインターネット株式会社\n")

EXPIRY_BODY = (
    "無料SSLでお使いの証明書の有効期間満了が近づいています(満了のおよそ15日前のお知らせです)。\n\n" + "%s\n"
    "自動更新ができていないか、同じコモンネームで新しい設定を作成中の可能性があります。\n"
    "期限が切れた場合はSSLの設定を削除し、あらためて設定していただく必要があります。\n")

JPRS_REISSUE_BODY = (
    "JPRSの中間CA証明書が失効するため、対象となるSSLサーバ証明書の再発行をお願いしております。\n"
    "対象: 2019年8月1日から2020年7月28日の間に発行された証明書\n\n" + "%s\n"
    "再発行のあとは、新しいサーバ証明書と中間CA証明書の両方をインストールしてください。\n")

XSERVER_BODY = (
    "いつもご利用いただきありがとうございます。エックスサーバー サポートです。\n\n"
    "サーバーID「xs123456」でお使いのSSLサーバー証明書について、\n"
    "期限を延ばすための更新作業を行いましたが、正常に完了しませんでした。\n\n"
    "会員ID : pXX12345678\n"
    "対象ドメイン : %s\n\n"
    "ドメインの状態や、サイト転送・アクセス制限の設定をご確認のうえ、\n"
    "サーバーパネルの「SSL設定」から更新をお試しください。\n"
    "詳しくは https://www.xserver.ne.jp/manual/ をご覧ください。\n")


def notices():
    write("sakura-renewal-error-iso2022jp-7bit.eml",
          mail(h(SAKURA_FROM, "re-1@sakura.ad.jp"), RENEWAL_ERROR_BODY % sakura_block("example-shop.jp"),
               "iso-2022-jp", "7bit", "[さくらインターネット]【重要】無料SSL SSLサーバ証明書 更新エラーについて", "iso-2022-jp"))
    write("sakura-renewal-error-blog-subject-utf8-qp.eml",
          mail(h(SAKURA_FROM, "re-2@sakura.ad.jp"), RENEWAL_ERROR_BODY % sakura_block("blog.example.com", "myblog"),
               "utf-8", "quoted-printable", "[さくらインターネット]【重要】無料SSL証明書 更新エラーについて", "utf-8", q=True))
    write("sakura-expiry-15d-sjis-base64.eml",
          mail(h(SAKURA_FROM, "exp-1@sakura.ad.jp"), EXPIRY_BODY % sakura_block("example.net", "netowner"),
               "shift_jis", "base64", "[さくらインターネット]【重要】SSLサーバ証明書 有効期間に関するご案内", "shift_jis"))
    write("sakura-expiry-15d-eucjp-8bit-idn.eml",
          mail(h(SAKURA_FROM, "exp-2@sakura.ad.jp"), EXPIRY_BODY % sakura_block("日本語.jp", "nihongo"),
               "euc-jp", "8bit", "[さくらインターネット]【重要】SSLサーバ証明書 有効期間に関するご案内", "euc-jp"))
    # Sent on one of the days of Sakura's mailing fault (000), and on an ordinary day.
    write("sakura-expiry-15d-fault-day.eml",
          mail(h(SAKURA_FROM, "exp-3@sakura.ad.jp", date="Thu, 23 Mar 2023 10:04:12 +0900"),
               EXPIRY_BODY % sakura_block("example-cafe.jp", "cafe"),
               "iso-2022-jp", "7bit", "[さくらインターネット]【重要】SSLサーバ証明書 有効期間に関するご案内", "iso-2022-jp"))
    write("sakura-expiry-15d-ordinary-day.eml",
          mail(h(SAKURA_FROM, "exp-4@sakura.ad.jp", date="Fri, 24 Mar 2023 10:04:12 +0900"),
               EXPIRY_BODY % sakura_block("example-cafe.jp", "cafe"),
               "iso-2022-jp", "7bit", "[さくらインターネット]【重要】SSLサーバ証明書 有効期間に関するご案内", "iso-2022-jp"))
    write("sakura-jprs-reissue-request-folded.eml",
          mail(h(SAKURA_FROM, "jprs-1@sakura.ad.jp"), JPRS_REISSUE_BODY % sakura_block("www.example.co.jp", "corp"),
               "iso-2022-jp", "7bit",
               "[さくらインターネット]【重要】SSLサーバ証明書再発行のお願い(JPRS 中間CA証明書の失効に伴うお手続き)",
               "iso-2022-jp"))
    write("sakura-jprs-reissue-procedure-utf8-base64.eml",
          mail(h(SAKURA_FROM, "jprs-2@sakura.ad.jp", date="Wed, 21 Apr 2021 10:00:00 +0900"),
               "再発行がお済みでない証明書は失効しました。新規のお申し込みにお使いいただける無償クーポンコードをお送りします。\n"
               "クーポンの利用期限: 2021年7月31日\n\n" + sakura_block("shop.example.org", "shop"),
               "utf-8", "base64", "[さくらインターネット]【重要】SSLサーバ証明書再発行手続きについて", "utf-8"))
    # The coupon mail forwarded by the customer under a subject of their own: found by its body.
    write("sakura-jprs-coupon-forward-body.eml",
          mail(h("owner@example-shop.jp", "fw-coupon@example-shop.jp", to="support@example.net"),
               "サポートご担当者様\n\n下記のメールが届きましたが、どうすればよいでしょうか。\n\n"
               "再発行がお済みでない証明書は失効しました。新規のお申し込みにお使いいただける無償クーポンコードをお送りします。\n"
               "クーポンの利用期限: 2021年7月31日\n\n" + sakura_block("order.example.org", "orders"),
               "utf-8", "8bit", "Fwd: SSL証明書のメールについて", "utf-8"))
    write("sakura-jprs-renewal-30d-iso2022jp.eml",
          mail(h(SAKURA_FROM, "jprs-3@sakura.ad.jp"),
               "ご利用中のSSLサーバ証明書の有効期限が近づいております(有効期限の約30日前)。\n"
               "更新のお申し込みをお願いいたします。\n\n" + sakura_block("secure.example.jp", "secure"),
               "iso-2022-jp", "7bit", "[さくらインターネット]【重要】SSLサーバ証明書 更新手続きのご案内(有効期限約30日前)",
               "iso-2022-jp"))
    # multipart/alternative: the HTML half must not be read twice or instead of the text.
    alt = (b"\n".join(l.encode("utf-8") for l in [
        "From: =?UTF-8?B?" + base64.b64encode("さくらインターネット".encode()).decode() + "?= <info@sakura.ad.jp>",
        "To: owner@example-corp.jp", "Date: Tue, 11 Mar 2025 15:00:00 +0900", "Message-ID: <jprs-4@sakura.ad.jp>"])
        + b"\nSubject: " + subject_header("[さくらインターネット]JPRS SSLサーバ証明書発行のお知らせ", "utf-8")
        + b"\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"ALT\"\n\n--ALT\n"
        + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(("お申し込みのSSLサーバ証明書を発行しました。\n" + sakura_block("example-corp.jp", "corp2")
                              + "新しい設定の有効化を行ってください。\n").encode())
        + b"--ALT\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + "<html><body><p>お申し込みのSSLサーバ証明書を発行しました。</p><p>コモンネーム : example-corp.jp</p></body></html>\n".encode()
        + b"--ALT--\n")
    write("sakura-jprs-issued-multipart-alternative.eml", alt)
    write("sakura-jprs-file-upload-utf8.eml",
          mail(h("SSL Support <ssl-support@sakura.ad.jp>", "jprs-5@sakura.ad.jp"),
               "ドメイン認証のため、下記のファイルをサーバに設置してください。\n"
               "設置場所: http://example.org/.well-known/pki-validation/fileauth.txt\n"
               "コモンネーム : example.org\n25日以内に認証が完了しない場合、お申し込みは取り消されます。\n",
               "utf-8", "8bit", "SSLサーバ証明書 認証ファイルのアップロードのお願い", "utf-8"))
    write("xserver-autorenew-failed-iso2022jp.eml",
          mail(h(XSERVER_FROM, "ssl-1@xserver.ne.jp"), XSERVER_BODY % "example-cafe.jp",
               "iso-2022-jp", "7bit", "【Xserver】■重要■ SSL証明書の更新に失敗しました", "iso-2022-jp"))
    write("xserver-autorenew-failed-sjis-qp.eml",
          mail(h(XSERVER_FROM, "ssl-2@xserver.ne.jp"), XSERVER_BODY % "www.example-cafe.net",
               "shift_jis", "quoted-printable", "【Xserver】■重要■ SSL証明書の更新に失敗しました", "shift_jis", q=True))


def forwards():
    original = RENEWAL_ERROR_BODY % sakura_block("forwarded.example.jp", "fwdowner")
    quoted = "\n".join("> " + l for l in (
        "From: さくらインターネット <support@sakura.ad.jp>\n"
        "Subject: [さくらインターネット]【重要】無料SSL SSLサーバ証明書 更新エラーについて\n"
        "Date: Mon, 10 Mar 2025 09:12:00 +0900\n\n" + original).split("\n"))
    body = "サポートご担当者様\n\nこのようなメールが届きました。どうすればよいでしょうか。\n\n" + quoted + "\n"
    write("forwarded-quoted-sakura-renewal-error.eml",
          mail([("From", "customer@example.net"), ("To", "helpdesk@example-agency.jp"),
                ("Date", "Mon, 10 Mar 2025 11:00:00 +0900"), ("Message-ID", "<fwd-1@example.net>"),
                ("References", "<older-1@example.net>")],
               body, "iso-2022-jp", "7bit", "Fwd: [さくらインターネット]【重要】無料SSL SSLサーバ証明書 更新エラーについて",
               "iso-2022-jp"))
    # An Outlook-style forward with Japanese header labels and no quoting marks.
    body = ("お世話になっております。下記の件、確認をお願いします。\n\n"
            "-----Original Message-----\n"
            "差出人: Xserver Support <support@xserver.ne.jp>\n"
            "件名: 【Xserver】■重要■ SSL証明書の更新に失敗しました\n\n" + XSERVER_BODY % "example-dental.jp")
    write("forwarded-inline-xserver-outlook.eml",
          mail([("From", "staff@example-dental.jp"), ("To", "it@example-agency.jp"),
                ("Date", "Tue, 11 Mar 2025 10:00:00 +0900"), ("Message-ID", "<fwd-2@example-dental.jp>")],
               body, "utf-8", "base64", "転送: 【Xserver】■重要■ SSL証明書の更新に失敗しました", "utf-8"))
    # The original as a message/rfc822 attachment (ISO-2022-JP inside a UTF-8 wrapper).
    inner = mail(h(SAKURA_FROM, "exp-9@sakura.ad.jp"), EXPIRY_BODY % sakura_block("attached.example.jp", "attach"),
                 "iso-2022-jp", "7bit", "[さくらインターネット]【重要】SSLサーバ証明書 有効期間に関するご案内", "iso-2022-jp")
    outer = (b"From: customer@example.com\nTo: helpdesk@example-agency.jp\nDate: Wed, 12 Mar 2025 09:00:00 +0900\n"
             b"Message-ID: <att-1@example.com>\nSubject: =?UTF-8?B?" + base64.b64encode("転送します".encode())
             + b"?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"MIX\"\n\n--MIX\n"
             b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
             + "届いたメールを添付します。\n".encode() + b"--MIX\nContent-Type: message/rfc822\n"
             b"Content-Disposition: attachment; filename=\"notice.eml\"\n\n" + inner + b"\n--MIX--\n")
    write("attached-rfc822-sakura-expiry.eml", outer)
    # A customer pastes the body into a new mail with a subject of their own.
    write("pasted-body-no-subject-match.eml",
          mail([("From", "owner@example-shop.jp"), ("To", "helpdesk@example-agency.jp"),
                ("Date", "Thu, 13 Mar 2025 09:00:00 +0900"), ("Message-ID", "<paste-1@example-shop.jp>")],
               "このような案内が来ました。\n\n" + RENEWAL_ERROR_BODY % sakura_block("pasted.example.jp", "paste"),
               "utf-8", "8bit", "至急: サイトのSSLについて", "utf-8"))


def unrelated():
    write("sakura-unrelated-maintenance.eml",
          mail(h(SAKURA_FROM, "mnt-1@sakura.ad.jp"),
               "下記の日程でネットワーク機器のメンテナンスを行います。\n対象サービス: さくらのレンタルサーバ\n"
               "作業中は数分間の通信断が発生します。\n", "iso-2022-jp", "7bit",
               "[さくらインターネット]【メンテナンス】ネットワーク機器の作業のお知らせ", "iso-2022-jp"))
    write("sakura-unrelated-contract-renewal.eml",
          mail(h(SAKURA_FROM, "bill-1@sakura.ad.jp"),
               "ご契約中のサービスの更新時期が近づいております。\n契約サービス: さくらのレンタルサーバ スタンダード\n"
               "ドメイン名 : example-shop.jp\n", "utf-8", "base64",
               "[さくらインターネット]ご契約の更新手続きのご案内", "utf-8"))
    write("xserver-unrelated-server-renewal.eml",
          mail(h(XSERVER_FROM, "bill-2@xserver.ne.jp"),
               "サーバーID「xs123456」のご利用期限が近づいております。\n更新のお手続きをお願いいたします。\n",
               "iso-2022-jp", "7bit", "【Xserver】サーバーご利用期限のお知らせ", "iso-2022-jp"))
    write("other-unrelated-newsletter.eml",
          mail([("From", "news@example-shop.com"), ("To", "owner@example-shop.jp"),
                ("Date", "Fri, 14 Mar 2025 09:00:00 +0900"), ("Message-ID", "<news-1@example-shop.com>")],
               "春のセールのお知らせです。https://example-shop.com/sale をご覧ください。\n", "utf-8",
               "quoted-printable", "春のセールのお知らせ", "utf-8"))


def damaged():
    # Shift_JIS bytes labelled ISO-2022-JP (a mail system's wrong label).
    write("wrong-label-sjis-as-iso2022jp.eml",
          mail(h(SAKURA_FROM, "bad-1@sakura.ad.jp"), RENEWAL_ERROR_BODY % sakura_block("mislabel.example.jp", "mislabel"),
               "shift_jis", "8bit", "[さくらインターネット]【重要】無料SSL SSLサーバ証明書 更新エラーについて", "iso-2022-jp",
               label="iso-2022-jp"))
    # UTF-8 bytes labelled Shift_JIS.
    write("wrong-label-utf8-as-sjis.eml",
          mail(h(XSERVER_FROM, "bad-2@xserver.ne.jp"), XSERVER_BODY % "utf8mislabel.example.jp",
               "utf-8", "8bit", "【Xserver】■重要■ SSL証明書の更新に失敗しました", "utf-8", label="shift_jis"))
    # A raw 8-bit Shift_JIS subject without encoded words, body labelled iso-8859-1.
    raw = ("From: support@xserver.ne.jp\nTo: owner@example.jp\nMessage-ID: <bad-3@xserver.ne.jp>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n").encode()
    raw = (raw[:raw.index(b"MIME")] + b"Subject: " + "【Xserver】■重要■ SSL証明書の更新に失敗しました".encode("shift_jis")
           + b"\n" + raw[raw.index(b"MIME"):] + b"\n" + (XSERVER_BODY % "rawsubject.example.jp").encode("shift_jis"))
    write("raw-8bit-sjis-subject-latin1-label.eml", raw)
    # Cut in the middle of a base64 part, without the closing boundary.
    part = base64.encodebytes((RENEWAL_ERROR_BODY % sakura_block("truncated.example.jp", "cut")).encode())
    trunc = (b"From: support@sakura.ad.jp\nTo: owner@example.jp\nMessage-ID: <cut-1@sakura.ad.jp>\nSubject: "
             + subject_header("[さくらインターネット]【重要】無料SSL SSLサーバ証明書 更新エラーについて", "utf-8")
             + b"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"CUT\"\n\n--CUT\n"
             b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
             + part[: len(part) * 2 // 3])
    write("truncated-multipart-base64.eml", trunc)


def acme():
    write("acme-problem-connection-timeout.json",
          '{\n  "type": "urn:ietf:params:acme:error:connection",\n'
          '  "detail": "203.0.113.10: Fetching http://example-farm.jp/.well-known/acme-challenge/q9T2kLmN0pRsTuVwXyZ1aB3cD4eF5gH6: '
          'Timeout during connect (likely firewall problem)",\n  "status": 400\n}\n')
    write("acme-problem-rate-limited.json",
          '{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (5) already issued for this exact '
          'set of identifiers in the last 168h0m0s, retry after 2025-03-18 09:13:16 UTC: see '
          'https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers","status":429}\n')
    write("acme-problem-subproblems-caa.json",
          '{\n "type": "urn:ietf:params:acme:error:caa",\n "detail": "Error finalizing order :: 2 problems",\n "status": 403,\n'
          ' "subproblems": [\n  {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA record for example-caa.jp prevents issuance",\n'
          '   "status": 403, "identifier": {"type": "dns", "value": "example-caa.jp"}},\n'
          '  {"type": "urn:ietf:params:acme:error:dns", "detail": "DNS problem: SERVFAIL looking up CAA for shop.example-caa.jp - '
          'the domain\'s nameservers may be malfunctioning",\n   "status": 400, "identifier": {"type": "dns", "value": "shop.example-caa.jp"}}\n ]\n}\n')
    write("acme-authorization-unauthorized-403.json",
          '{\n  "identifier": {"type": "dns", "value": "members.example-club.jp"},\n  "status": "invalid",\n'
          '  "expires": "2025-03-20T03:59:01Z",\n  "challenges": [\n    {\n      "type": "http-01",\n'
          '      "url": "https://acme-v02.api.letsencrypt.org/acme/chall/1234567/8901234/AbCdEf",\n      "status": "invalid",\n'
          '      "validated": "2025-03-13T03:59:05Z",\n      "error": {\n        "type": "urn:ietf:params:acme:error:unauthorized",\n'
          '        "detail": "198.51.100.7: Invalid response from http://members.example-club.jp/.well-known/acme-challenge/Zx8Yw7Vu6Ts5: 403",\n'
          '        "status": 403\n      },\n      "token": "Zx8Yw7Vu6Ts5"\n    }\n  ]\n}\n')
    write("acme-problem-secondary-validation.json",
          '{"type":"urn:ietf:params:acme:error:connection","detail":"During secondary validation: 192.0.2.44: Fetching '
          'http://geo.example-inn.jp/.well-known/acme-challenge/Lm3Nk4Oj5Pi6: Timeout during connect (likely firewall problem)",'
          '"status":400}\n')


def clients():
    write("certbot-two-domains.log",
          "Saving debug log to /var/log/letsencrypt/letsencrypt.log\n"
          "Renewing an existing certificate for example-garden.jp and www.example-garden.jp\n\n"
          "Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:\n"
          "  Domain: example-garden.jp\n  Type:   connection\n"
          "  Detail: 203.0.113.25: Fetching http://example-garden.jp/.well-known/acme-challenge/Ab12Cd34Ef56: Timeout during connect (likely firewall problem)\n\n"
          "  Domain: www.example-garden.jp\n  Type:   dns\n"
          "  Detail: DNS problem: NXDOMAIN looking up A for www.example-garden.jp - check that a DNS record exists for this domain; "
          "DNS problem: NXDOMAIN looking up AAAA for www.example-garden.jp - check that a DNS record exists for this domain\n\n"
          "Hint: The Certificate Authority failed to download the temporary challenge files created by Certbot.\n\n"
          "Failed to renew certificate example-garden.jp with error: Some challenges have failed.\n")
    write("certbot-old-wrapped-detail.log",
          "IMPORTANT NOTES:\n - The following errors were reported by the server:\n\n"
          "   Domain: old.example-press.jp\n   Type:   unauthorized\n"
          "   Detail: Invalid response from\n   http://old.example-press.jp/.well-known/acme-challenge/Qw12Er34Ty56:\n"
          "   \"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n   <html><head>\n   <title>404 Not Found</title>\"\n\n"
          "   To fix these errors, please make sure that your domain name was\n   entered correctly and the DNS A/AAAA record(s) for that domain\n"
          "   contain(s) the right IP address.\n")
    write("certbot-rate-limit.log",
          "Saving debug log to /var/log/letsencrypt/letsencrypt.log\nRequesting a certificate for example-bakery.jp and www.example-bakery.jp\n"
          "An unexpected error occurred:\nError creating new order :: too many certificates (5) already issued for this exact set of "
          "domains in the last 168h0m0s: example-bakery.jp,www.example-bakery.jp, retry after 2025-03-15 04:20:00 UTC: see "
          "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames\n"
          "Ask for help or search for solutions at https://community.letsencrypt.org.\n")
    write("lego-connection-refused.log",
          "2025/03/13 01:02:03 [INFO] [example-studio.jp] acme: Obtaining bundled SAN certificate\n"
          "2025/03/13 01:02:04 [INFO] [example-studio.jp] AuthURL: https://acme-v02.api.letsencrypt.org/acme/authz/12345/67890\n"
          "2025/03/13 01:02:04 [INFO] [example-studio.jp] acme: Trying to solve HTTP-01\n"
          "2025/03/13 01:02:09 Could not obtain certificates:\n\terror: one or more domains had a problem:\n"
          "[example-studio.jp] acme: error: 400 :: urn:ietf:params:acme:error:connection :: 198.51.100.80: Fetching "
          "http://example-studio.jp/.well-known/acme-challenge/Gh78Ij90Kl12: Connection refused\n")
    write("lego-pebble-basic-auth.log",
          "2025/03/13 01:10:00 [INFO] [example-members.jp] acme: Obtaining bundled SAN certificate\n"
          "2025/03/13 01:10:01 [INFO] [example-members.jp] acme: Trying to solve HTTP-01\n"
          "2025/03/13 01:10:03 Could not obtain certificates:\n\terror: one or more domains had a problem:\n"
          "[example-members.jp] acme: error: 403 :: urn:ietf:params:acme:error:unauthorized :: Non-200 status code "
          "from HTTP: http://example-members.jp:80/.well-known/acme-challenge/Wx12Yz34 returned 401\n")
    write("lego-h2c.log",
          "2025/03/13 01:20:00 [INFO] [example-press.jp] acme: Obtaining bundled SAN certificate\n"
          "2025/03/13 01:20:01 [INFO] [example-press.jp] acme: Trying to solve HTTP-01\n"
          "2025/03/13 01:20:03 Could not obtain certificates:\n\terror: one or more domains had a problem:\n"
          "[example-press.jp] acme: error: 400 :: urn:ietf:params:acme:error:connection :: 198.51.100.82: Fetching "
          "http://example-press.jp/.well-known/acme-challenge/Hh21Ii43: Server is speaking HTTP/2 over HTTP\n")
    write("lego-pebble-h2c.log",
          "2025/03/13 01:21:00 [INFO] [example-press.jp] acme: Trying to solve HTTP-01\n"
          "2025/03/13 01:21:02 Could not obtain certificates:\n\terror: one or more domains had a problem:\n"
          "[example-press.jp] acme: error: 400 :: urn:ietf:params:acme:error:connection :: net/http: HTTP/1.x "
          "transport connection broken: malformed HTTP response \"\\x00\\x00\\x06\\x04\\x00\\x00\\x00\\x00\\x00"
          "\\x00\\x03\\x00\\x00\\x00d\\x00\\x00\\b\\a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\"\n")
    write("lego-redirect-303.log",
          "2025/03/13 01:22:00 [INFO] [example-garden.jp] acme: Trying to solve HTTP-01\n"
          "2025/03/13 01:22:02 Could not obtain certificates:\n\terror: one or more domains had a problem:\n"
          "[example-garden.jp] acme: error: 400 :: urn:ietf:params:acme:error:connection :: 198.51.100.83: Fetching "
          "https://example-garden.jp/.well-known/acme-challenge/Jj65Kk87: received disallowed redirect status code\n")
    write("acmesh-forbidden.log",
          "[Thu Mar 13 02:00:01 UTC 2025] Renew: 'example-salon.jp'\n"
          "[Thu Mar 13 02:00:02 UTC 2025] Getting webroot for domain='example-salon.jp'\n"
          "[Thu Mar 13 02:00:05 UTC 2025] example-salon.jp:Verify error:198.51.100.91: Invalid response from "
          "http://example-salon.jp/.well-known/acme-challenge/Mn34Op56Qr78: 403\n"
          "[Thu Mar 13 02:00:05 UTC 2025] Please check log file for more details: /root/.acme.sh/acme.sh.log\n")
    write("acmesh-rate-limit-registered-domain.log",
          "[Fri Mar 14 03:00:00 UTC 2025] Create new order error. Le_OrderFinalize not found. "
          "{\"type\": \"urn:ietf:params:acme:error:rateLimited\", \"detail\": \"too many certificates (50) already issued for "
          "\\\"example-media.jp\\\" in the last 168h0m0s, retry after 2025-03-16 11:00:00 UTC: see "
          "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain\", \"status\": 429}\n"
          "[Fri Mar 14 03:00:00 UTC 2025] Please check log file for more details: /root/.acme.sh/acme.sh.log\n")
    write("caddy-json-redirect-port.log",
          '{"level":"info","ts":1741831200.1,"logger":"tls.obtain","msg":"acquiring lock","identifier":"example-cafe.tokyo"}\n'
          '{"level":"error","ts":1741831205.4,"logger":"tls.issuance.acme.acme_client","msg":"challenge failed",'
          '"identifier":"example-cafe.tokyo","challenge_type":"http-01","problem":{"type":"urn:ietf:params:acme:error:unauthorized",'
          '"title":"","detail":"192.0.2.61: Fetching http://example-cafe.tokyo:8080/.well-known/acme-challenge/St90Uv12: '
          'Invalid port in redirect target. Only ports 80 and 443 are supported, not 8080","instance":"","subproblems":[]}}\n'
          '{"level":"error","ts":1741831205.9,"logger":"tls.obtain","msg":"could not get certificate from issuer",'
          '"identifier":"example-cafe.tokyo","issuer":"acme-v02.api.letsencrypt.org-directory","error":"HTTP 403 '
          'urn:ietf:params:acme:error:unauthorized - 192.0.2.61: Fetching http://example-cafe.tokyo:8080/.well-known/acme-challenge/St90Uv12: '
          'Invalid port in redirect target. Only ports 80 and 443 are supported, not 8080"}\n')
    write("traefik-v2-nxdomain.log",
          'time="2025-03-13T05:00:00Z" level=error msg="Unable to obtain ACME certificate for domains \\"app.example-works.jp\\": '
          'unable to generate a certificate for the domains [app.example-works.jp]: error: one or more domains had a problem:\\n'
          '[app.example-works.jp] acme: error: 400 :: urn:ietf:params:acme:error:dns :: DNS problem: NXDOMAIN looking up A for '
          'app.example-works.jp - check that a DNS record exists for this domain\\n" providerName=letsencrypt.acme '
          'routerName=app@docker rule="Host(`app.example-works.jp`)"\n')
    write("traefik-v3-caa-servfail.log",
          '2025-03-13T06:00:00Z ERR github.com/traefik/traefik/v3/pkg/provider/acme/provider.go:457 > Unable to obtain ACME '
          'certificate for domains error="unable to generate a certificate for the domains [api.example-lab.jp]: error: one or more '
          'domains had a problem:\\n[api.example-lab.jp] acme: error: 400 :: urn:ietf:params:acme:error:dns :: DNS problem: SERVFAIL '
          'looking up CAA for api.example-lab.jp - the domain\'s nameservers may be malfunctioning\\n" ACME CA=https://acme-v02.api.'
          'letsencrypt.org/directory acmeCA=https://acme-v02.api.letsencrypt.org/directory domains=["api.example-lab.jp"] '
          'providerName=le.acme routerName=api@file rule="Host(`api.example-lab.jp`)"\n')
    write("cert-manager-self-check-timeout.txt",
          "Name:         web-tls-1-2345678901-3456789012\nNamespace:    default\nAPI Version:  acme.cert-manager.io/v1\n"
          "Kind:         Challenge\nSpec:\n  Dns Name:  shop.example-k8s.jp\n  Type:      HTTP-01\nStatus:\n  Presented:   true\n"
          "  Processing:  true\n  Reason:      Waiting for HTTP-01 challenge propagation: failed to perform self check GET request "
          "'http://shop.example-k8s.jp/.well-known/acme-challenge/Wx12Yz34': Get \"http://shop.example-k8s.jp/.well-known/"
          "acme-challenge/Wx12Yz34\": dial tcp 203.0.113.77:80: i/o timeout\n  State:       pending\n")
    write("cert-manager-order-rate-limited.txt",
          "Events:\n  Type     Reason  Age   From                 Message\n  ----     ------  ----  ----                 -------\n"
          "  Warning  Failed  2m    cert-manager-orders  Failed to create Order resource due to bad request, marking Order as "
          "failed: 429 urn:ietf:params:acme:error:rateLimited: too many certificates (5) already issued for this exact set of "
          "identifiers in the last 168h0m0s, retry after 2025-03-19 00:30:00 UTC: see "
          "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers\n"
          "Spec:\n  Dns Names:\n    api.example-k8s.jp\n")
    # A cron mail carrying certbot's output: not a provider's notice, but an ACME error.
    write("cron-mail-certbot-caa.eml",
          mail([("From", "Cron Daemon <root@web1.example-host.jp>"), ("To", "root@web1.example-host.jp"),
                ("Date", "Sat, 15 Mar 2025 03:00:00 +0900"), ("Message-ID", "<cron-1@web1.example-host.jp>")],
               "Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:\n"
               "  Domain: example-caa-cron.jp\n  Type:   caa\n"
               "  Detail: CAA record for example-caa-cron.jp prevents issuance\n",
               "utf-8", "7bit", "Cron <root@web1> certbot renew -q", None))


def main():
    os.makedirs(OUT, exist_ok=True)
    notices()
    forwards()
    unrelated()
    damaged()
    acme()
    clients()
    print("wrote", len(os.listdir(OUT)), "files to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
