package matcher

import "strings"

// freemailDomains are mail providers anyone can sign up with: two senders
// sharing one of them are no evidence of being the same creditor.
var freemailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true,
	"gmx.de": true, "gmx.net": true, "gmx.at": true, "gmx.ch": true, "gmx.com": true,
	"gmx.info": true, "gmx.org": true, "gmx.eu": true,
	"web.de": true, "email.de": true, "t-online.de": true, "magenta.de": true,
	"outlook.com": true, "outlook.de": true, "hotmail.com": true, "hotmail.de": true,
	"live.com": true, "live.de": true, "msn.com": true, "windowslive.com": true,
	"yahoo.com": true, "yahoo.de": true, "ymail.com": true, "rocketmail.com": true,
	"icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true, "aol.de": true, "aim.com": true,
	"posteo.de": true, "posteo.net": true, "mail.de": true, "freenet.de": true,
	"arcor.de": true, "online.de": true, "vodafone.de": true, "kabelmail.de": true,
	"1und1.de": true, "mailbox.org": true, "protonmail.com": true, "proton.me": true,
	"pm.me": true, "tutanota.com": true, "tutanota.de": true, "tuta.io": true,
	"zoho.com": true, "yandex.com": true, "yandex.ru": true, "mail.ru": true,
	"gmx.li": true, "emailn.de": true, "unitybox.de": true, "nexgo.de": true,
}

// freemailBrands are provider names that appear under many country domains
// (hotmail.co.uk, yahoo.fr, outlook.at …).
var freemailBrands = map[string]bool{
	"gmail": true, "googlemail": true, "gmx": true, "hotmail": true, "outlook": true,
	"live": true, "yahoo": true, "ymail": true, "icloud": true, "aol": true,
	"protonmail": true,
}

// IsFreemail reports whether domain belongs to a public mail provider
// (gmx.de, gmail.com, hotmail.co.uk …), case-insensitively: two senders
// sharing such a domain are no evidence of being the same creditor.
func IsFreemail(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if freemailDomains[d] {
		return true
	}
	labels := strings.Split(d, ".")
	switch {
	case len(labels) == 2:
		return freemailBrands[labels[0]]
	case len(labels) == 3 && secondLevelLabels[labels[1]]:
		return freemailBrands[labels[0]]
	}
	return false
}

// secondLevelLabels are registry labels under a country code (co.uk, com.br):
// the brand sits one label further left, and "co.uk" alone names nobody.
var secondLevelLabels = map[string]bool{
	"co": true, "com": true, "org": true, "net": true, "gov": true, "ac": true, "edu": true, "or": true,
}
