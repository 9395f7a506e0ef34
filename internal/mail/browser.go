package mail

import "strings"

// unknownBrowser is what DescribeBrowser says of a User-Agent it does not
// recognize.
const unknownBrowser = "an unknown browser"

// DescribeBrowser names the browser and operating system of a User-Agent
// header for people: "Firefox on Linux", "Chrome on Windows", "Safari on
// iOS", "Edge on Windows"; "curl" for curl; the browser alone when the
// system is not recognized, "an unknown browser on Linux" for the
// reverse, and "an unknown browser" when neither is. The result is one of
// these fixed phrases, never text taken from the header, so it is safe in
// a message.
//
// It reads the tokens of common browsers only, and trusts them: a client
// can claim to be anything. An iPad asking for desktop sites says it is a
// Mac.
func DescribeBrowser(userAgent string) string {
	if strings.HasPrefix(userAgent, "curl/") {
		return "curl"
	}
	browser, system := browserOf(userAgent), systemOf(userAgent)
	switch {
	case browser == "" && system == "":
		return unknownBrowser
	case browser == "":
		return unknownBrowser + " on " + system
	case system == "":
		return browser
	}
	return browser + " on " + system
}

// browsers are the tokens that name a browser, tried in order: browsers
// built on Chromium also say "Chrome/", and Chrome also says "Safari/".
var browsers = []struct{ name, token string }{
	{"Edge", "Edg/"},
	{"Edge", "EdgA/"},
	{"Edge", "EdgiOS/"},
	{"Edge", "Edge/"},
	{"Opera", "OPR/"},
	{"Opera", "OPT/"},
	{"Samsung Internet", "SamsungBrowser/"},
	{"Firefox", "Firefox/"},
	{"Firefox", "FxiOS/"},
	{"Chrome", "CriOS/"},
	{"Chrome", "Chrome/"},
	{"Chrome", "Chromium/"},
	{"Safari", "Version/"}, // with Safari/ or Mobile/, checked below
}

func browserOf(ua string) string {
	if !strings.HasPrefix(ua, "Mozilla/") {
		return ""
	}
	for _, b := range browsers {
		if !strings.Contains(ua, b.token) {
			continue
		}
		if b.name == "Safari" && !strings.Contains(ua, "Safari/") && !strings.Contains(ua, "Mobile/") {
			continue
		}
		return b.name
	}
	return ""
}

// systems are the tokens that name an operating system, tried in order:
// Android says "Linux", iOS says "like Mac OS X".
var systems = []struct{ name, token string }{
	{"Windows", "Windows"},
	{"Android", "Android"},
	{"iOS", "iPhone"},
	{"iOS", "iPad"},
	{"iOS", "iPod"},
	{"ChromeOS", "CrOS"},
	{"macOS", "Macintosh"},
	{"Linux", "Linux"},
	{"Linux", "X11"},
}

func systemOf(ua string) string {
	// Only the platform part, "(…)", names the system: a product token
	// after it ("Mobile/15E148") must not.
	open := strings.IndexByte(ua, '(')
	if open < 0 {
		return ""
	}
	platform := ua[open+1:]
	if end := strings.IndexByte(platform, ')'); end >= 0 {
		platform = platform[:end]
	}
	for _, s := range systems {
		if strings.Contains(platform, s.token) {
			return s.name
		}
	}
	return ""
}
