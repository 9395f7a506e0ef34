package mail

import (
	"slices"
	"testing"
)

func TestDescribeBrowserNamesCommonBrowsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ua, want string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on macOS"},
		{"Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox on Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", "Firefox on iOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on macOS"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", "Edge on Android"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045", "Edge on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0", "Opera on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"curl/8.5.0", "curl"},
		{"curl/7.68.0", "curl"},
		// The system without a browser, or the reverse.
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)", "an unknown browser on Windows"},
		{"Mozilla/5.0 (FreeBSD amd64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox"},
		// Neither, or not a browser.
		{"", "an unknown browser"},
		{"Wget/1.21.4", "an unknown browser"},
		{"Go-http-client/1.1", "an unknown browser"},
		{"python-requests/2.32.3", "an unknown browser"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "an unknown browser"},
		{"Mozilla/5.0", "an unknown browser"},
		{"Mozilla/5.0 (", "an unknown browser"},
		// A token outside the platform part names no system.
		{"Mozilla/5.0 () Firefox/1.0 Linux", "Firefox"},
		{"Firefox/133.0 (X11; Linux x86_64)", "an unknown browser on Linux"},
		{"curl", "an unknown browser"},
	}
	for _, tt := range tests {
		if got := DescribeBrowser(tt.ua); got != tt.want {
			t.Errorf("DescribeBrowser(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

// Whatever the header says, the description is one of a fixed set of
// phrases, so a client cannot write into a message through it.
func TestDescribeBrowserSaysNothingFromTheHeader(t *testing.T) {
	t.Parallel()
	var phrases []string
	names := []string{unknownBrowser}
	for _, b := range browsers {
		names = append(names, b.name)
	}
	for _, n := range names {
		phrases = append(phrases, n)
		for _, s := range systems {
			phrases = append(phrases, n+" on "+s.name)
		}
	}
	phrases = append(phrases, "curl")
	for _, ua := range []string{
		"Mozilla/5.0 (<script>alert(1)</script>; Linux) Firefox/1 <b>",
		"Mozilla/5.0 (Windows\r\nBcc: x@evil.example) Chrome/1",
		"curl/<img src=x>",
		"Mozilla/5.0 (Evil OS) Version/1 Safari/1 http://evil.example",
	} {
		if got := DescribeBrowser(ua); !slices.Contains(phrases, got) {
			t.Errorf("DescribeBrowser(%q) = %q, not one of the fixed phrases", ua, got)
		}
	}
}
