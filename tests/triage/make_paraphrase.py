#!/usr/bin/env python3
"""Writes tests/triage/paraphrase/: notices of every kind in the profiles' `notices:`, each
reworded three ways (as a provider might word it next year), and mails from the same senders
that are not about a certificate (billing, maintenance, domain renewal, offers). Expectations are
in tests/triage/paraphrase.yaml. The texts are our own.

    make_paraphrase.py [OUT_DIR]
"""
import email.policy
import os
import sys
from email.message import EmailMessage

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "paraphrase")
SAKURA = "さくらインターネット <info@sakura.ad.jp>"
XSERVER = "エックスサーバー <support@xserver.ne.jp>"

MAILS = {
    # --- sakura-renewal-error ---
    "sakura-renewal-error-1.eml": (SAKURA, "[さくらインターネット] 無料SSLの自動更新が完了しませんでした",
        "いつもご利用ありがとうございます。\n\n下記の証明書について、Let's Encrypt を使った無料SSLの自動更新処理が正常に終わりませんでした。\n\n"
        "コモンネーム : r1.example-shop.jp\n初期ドメイン : shopacct.sakura.ne.jp\n証明書の種類 : Let's Encrypt (無料SSL)\n\n"
        "ドメインの向き先やSSLの設定をご確認のうえ、コントロールパネルから改めてお手続きください。\n"),
    "sakura-renewal-error-2.eml": (SAKURA, "【さくらのレンタルサーバ】SSL証明書の更新でエラーが発生しました",
        "お客様がご利用中の無料SSL証明書(Let's Encrypt)を新しい証明書に更新できませんでした。\n"
        "複数の証明書が対象です。\n\n■1件目\nアカウント名 : gardenacct\nコモンネーム : r2-garden.jp\n\n■2件目\nアカウント名 : gardenacct\nコモンネーム : www.r2-garden.jp\n\n"
        "原因を取り除いたあと、もう一度更新をお申し込みください。\n"),
    "sakura-renewal-error-3.eml": ("Owner <owner@example.net>", "Fwd: SSLの件",
        "先ほど届いたメールを転送します。\n\n---------- 転送メッセージ ----------\n"
        "さくらインターネットより\n\nお使いの無料SSLについて自動での更新を試みましたが、完了できませんでした。\n\n"
        "レンタルサーバアカウント : cafeacct\nコモンネーム : r3-cafe.jp\n\n設定を確認して、再度更新をお申し込みください。\n"),
    # --- sakura-expiry-notice-15d ---
    "sakura-expiry-15d-1.eml": (SAKURA, "[さくらインターネット] SSL証明書の有効期限が近づいています",
        "ご利用中のSSLサーバ証明書(Let's Encrypt)は、有効期限まで残り15日となりましたが、まだ新しい証明書に切り替わっていません。\n\n"
        "コモンネーム : e1-studio.jp\n有効期限日 : 2025/04/30\n\n早めにコントロールパネルで状況をご確認ください。\n"),
    "sakura-expiry-15d-2.eml": (SAKURA, "【重要】無料SSL証明書の期限切れまで2週間です",
        "お客様の無料SSL証明書は、有効期間の終わりまで2週間を切りました。新しい証明書への切り替えはまだ行われていません。\n\n"
        "対象ドメイン : e2-salon.jp\n\n秘密鍵を含む新しい設定を作りかけている場合は、それを中止すると自動で切り替わります。\n"),
    "sakura-expiry-15d-3.eml": (SAKURA, "SSLサーバ証明書の有効期限について(残り15日)",
        "さくらインターネットです。\n下記のSSL証明書は15日後に有効期限を迎えますが、更新された証明書がまだ設置されていません。\n\n"
        "コモンネーム : e3-bakery.jp\n\nこのままでは期限後にhttpsで閲覧できなくなります。\n"),
    # --- sakura-jprs-coupon ---
    "sakura-jprs-coupon-1.eml": (SAKURA, "[さくらインターネット] JPRS証明書 新規お申し込み用クーポンのお届け",
        "JPRSのSSLサーバ証明書をお使いのお客様へ。\n該当の証明書は失効処理を終えたため、以前の証明書を作り直すことはできなくなりました。\n"
        "代わりに、新規でお申し込みいただく際に使える無料のクーポンコードをお送りします。\n\nクーポンコード : ABCD-1234\nコモンネーム : c1-office.jp\n"),
    "sakura-jprs-coupon-2.eml": (SAKURA, "有償SSL証明書のお申し込みに使えるクーポンのご案内",
        "お手元の有償SSL証明書は取り消し済みです。新しい証明書を申し込む際、同封のクーポンを入力すると費用はかかりません。\n\n"
        "対象ドメイン : c2-clinic.jp\nクーポン : EFGH-5678\nご利用期限 : 2021/07/31\n"),
    "sakura-jprs-coupon-3.eml": (SAKURA, "【さくらインターネット】JPRS SSL 無償クーポンコードについて",
        "JPRS発行の証明書について、作り直しの受付は終了しました。今後は新規申込をお願いしております。\n"
        "申込画面のクーポン欄に下記のコードを入力してください。\n\nコード : IJKL-9012\nコモンネーム : c3-law.jp\n"),
    # --- sakura-jprs-reissue-request ---
    "sakura-jprs-reissue-1.eml": (SAKURA, "[さくらインターネット] JPRS証明書の作り直し(再発行)をお願いします",
        "JPRSの中間CA証明書が失効したため、お使いの有償SSL証明書を再発行し、サーバーに入れ直していただく必要があります。\n\n"
        "コモンネーム : q1-school.jp\n\n再発行した証明書は、中間証明書と一緒に設置してください。\n"),
    "sakura-jprs-reissue-2.eml": (SAKURA, "有償SSL証明書 再発行のお願い(中間証明書の失効)",
        "お客様の有償SSL証明書は、失効した中間証明書につながっています。このままではブラウザで警告が出るため、再発行の手続きを行ってください。\n\n"
        "対象ドメイン : q2-hotel.jp\n"),
    "sakura-jprs-reissue-3.eml": (SAKURA, "【重要】JPRS SSLサーバ証明書について",
        "JPRSが発行した証明書のうち一部は、上位の中間認証局が失効したため使えなくなります。\n"
        "対象の証明書をお持ちのお客様は、再発行のお申し込みと設置をお願いいたします。\n\nコモンネーム : q3-farm.jp\n"),
    # --- sakura-jprs-renewal-30d ---
    "sakura-jprs-renewal-1.eml": (SAKURA, "[さくらインターネット] 有償SSL証明書の更新をお忘れなく",
        "ご利用中のJPRSのSSL証明書は、有効期限まで残り30日ほどです。\n引き続きお使いいただくには、更新のお申し込み手続きをお願いします。\n\n"
        "コモンネーム : u1-store.jp\n"),
    "sakura-jprs-renewal-2.eml": (SAKURA, "有料SSLサーバ証明書 継続のお申し込みについて",
        "お使いの有料SSL証明書の期限が1か月後に迫っています。更新をご希望の場合は、コントロールパネルからお申込ください。\n\n"
        "対象ドメイン : u2-dental.jp\n"),
    "sakura-jprs-renewal-3.eml": (SAKURA, "【さくらインターネット】JPRS証明書 更新のご案内",
        "JPRSのSSLサーバ証明書の有効期限が30日後に到来します。\n新しい証明書を発行するため、更新手続をお願いいたします。\n\nコモンネーム : u3-cram.jp\n"),
    # --- sakura-jprs-issued ---
    "sakura-jprs-issued-1.eml": (SAKURA, "[さくらインターネット] JPRS証明書ができあがりました",
        "お申し込みいただいたJPRSのSSL証明書が発行されました。\nさくらのレンタルサーバでは自動で設置済みです。「新しい設定の有効化」を行うと切り替わります。\n\n"
        "コモンネーム : i1-lab.jp\n"),
    "sakura-jprs-issued-2.eml": (SAKURA, "有償SSL証明書の発行が完了しました",
        "ご注文の有償SSL証明書の発行が完了しました。\n他社のサーバーでお使いの場合は、中間証明書とあわせて設置してください。\n\n対象ドメイン : i2-yoga.jp\n"),
    "sakura-jprs-issued-3.eml": (SAKURA, "【さくらインターネット】SSLサーバ証明書 発行済みのお知らせ",
        "JPRSのサーバ証明書を発行いたしました。\nコントロールパネルで新しい設定を有効にしてから、httpsで表示をご確認ください。\n\nコモンネーム : i3-arts.jp\n"),
    # --- sakura-jprs-file-upload ---
    "sakura-jprs-file-upload-1.eml": (SAKURA, "[さくらインターネット] ドメイン確認用ファイルの設置のお願い",
        "SSL証明書の発行前に、ドメインの確認が必要です。\n下記の確認用ファイルをWebサーバーの指定の場所に置いてください。\n\n"
        "コモンネーム : f1-guild.jp\nファイル名 : fileauth.txt\n"),
    "sakura-jprs-file-upload-2.eml": (SAKURA, "認証用ファイルのアップロードがまだ確認できません",
        "証明書のお申し込みについて、ドメイン認証用ファイルのアップロードをお待ちしております。\n25日を過ぎると申込は取り消されます。\n\n"
        "対象ドメイン : f2-press.jp\n"),
    "sakura-jprs-file-upload-3.eml": (SAKURA, "【さくらインターネット】JPRS 認証ファイル配置のご案内",
        "JPRSの審査のため、認証ファイルをWebサーバーに配置してください。配置後、httpで取得できることをご確認ください。\n\n"
        "コモンネーム : f3-books.jp\n"),
    # --- xserver-autorenew-failed ---
    "xserver-autorenew-failed-1.eml": (XSERVER, "【エックスサーバー】無料独自SSLの自動更新が完了しませんでした",
        "いつもエックスサーバーをご利用いただきありがとうございます。\n\n下記ドメインの無料独自SSL(Let's Encrypt)について、自動更新の処理が正常に終わりませんでした。\n\n"
        "サーバーID : xs123456\n対象ドメイン : x1-craft.jp\n\nドメインの設定やアクセス制限をご確認のうえ、サーバーパネルから更新をお試しください。\n"),
    "xserver-autorenew-failed-2.eml": (XSERVER, "[Xserver] SSL証明書を更新できませんでした",
        "お客様のSSL証明書の更新作業でエラーが発生しました。\n\nサーバーID : xs654321\nドメイン名 : x2-travel.jp\n\n"
        "DNSの向き先が当サーバーか、サイト転送が設定されていないかをご確認ください。\n"),
    "xserver-autorenew-failed-3.eml": ("Web担当 <web@example.org>", "転送: 証明書の件",
        "エックスサーバーから下記のお知らせが来ています。\n\n> 無料独自SSLの証明書の更新に失敗しました。\n> サーバーID : xs777777\n> 対象ドメイン : x3-music.jp\n"),
    # --- distractors: same senders, not about a failed or pending certificate ---
    "distractor-sakura-billing.eml": (SAKURA, "[さくらインターネット] ご請求金額確定のお知らせ",
        "今月のご請求金額が確定しました。\nSSL証明書オプションを含むご利用料金の明細は会員メニューでご確認いただけます。\n"),
    "distractor-sakura-maintenance.eml": (SAKURA, "[さくらインターネット] コントロールパネルのメンテナンスについて",
        "下記の日程でメンテナンスを行います。\n作業中は無料SSLの新規設定や更新のお手続きでエラーが表示される場合があります。\n"),
    "distractor-sakura-domain-renewal.eml": (SAKURA, "[さくらインターネット] ドメインの更新手続きが完了していません",
        "ドメイン d3-shop.jp の更新料のお支払いが確認できていません。\n失効するとWebサイトやSSL証明書もお使いいただけなくなります。\n"),
    "distractor-sakura-campaign.eml": (SAKURA, "[さくらインターネット] 有料SSL証明書 割引キャンペーンのお知らせ",
        "JPRSの有料SSL証明書を、期間限定の特別価格でお申し込みいただけます。\n"),
    "distractor-sakura-contract.eml": (SAKURA, "[さくらインターネット] レンタルサーバ 契約更新のご案内",
        "ご契約中のレンタルサーバは来月末で契約期間が終わります。自動で契約の更新が行われます。\n"),
    "distractor-xserver-billing.eml": (XSERVER, "【エックスサーバー】ご利用料金のお支払い確認のお願い",
        "サーバーの利用期限が近づいていますが、お支払いが完了していません。\n"
        "期限を過ぎると無料独自SSLを含むすべての機能が停止し、更新もできませんでした扱いとなります。\n\nサーバーID : xs123456\n"),
    "distractor-xserver-maintenance.eml": (XSERVER, "【エックスサーバー】サーバーメンテナンス実施のお知らせ",
        "メンテナンス中はサーバーパネルのSSL設定で更新を行うとエラーになります。終了後にお試しください。\n"),
    "distractor-xserver-domain-renewal.eml": (XSERVER, "【エックスサーバー】ドメインの有効期限が近づいています",
        "ご契約ドメイン d8-net.jp の有効期限まで残りわずかです。ドメインの更新手続きをお願いいたします。\n"),
    "distractor-xserver-ssl-done.eml": (XSERVER, "【エックスサーバー】SSL設定完了のお知らせ",
        "無料独自SSLの設定が完了しました。反映まで最大1時間ほどかかります。\n"),
    "distractor-xserver-newsletter.eml": (XSERVER, "【エックスサーバー】新機能のご紹介",
        "WordPressの高速化機能を追加しました。SSL化されたサイトでもそのままお使いいただけます。\n"),
}


def main():
    os.makedirs(out, exist_ok=True)
    for i, (name, (sender, subject, body)) in enumerate(sorted(MAILS.items())):
        m = EmailMessage(policy=email.policy.SMTP)
        m["From"] = sender
        m["To"] = "customer@example.net"
        m["Subject"] = subject
        m["Date"] = "Tue, 08 Apr 2025 10:%02d:00 +0900" % (i % 60)
        m["Message-ID"] = "<para-%d@example.net>" % i
        m.set_content(body, charset="utf-8", cte="8bit")
        with open(os.path.join(out, name), "wb") as f:
            f.write(m.as_bytes())


if __name__ == "__main__":
    main()
