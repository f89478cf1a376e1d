package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// Screenshot dimensions: a desktop viewport, and the phone the layout is checked on.
const (
	shotWidth, shotHeight   = 1280, 800
	phoneWidth, phoneHeight = 390, 844
)

// chromiumPath returns Debian's chromium, or skips the test without it (and fails it
// when CI=true: CI installs it, see .ci/run).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("console browser tests: chromium is missing (apt-get install chromium)")
	}
	t.Skip("console browser tests skipped: chromium is not installed (apt-get install chromium)")
	return ""
}

// TestBrowserFlow drives the console in headless chromium, as an operator of org-a:
// sign in, filter the pending reset requests, decline one, reset two fields of a profile
// and see them mandatory, cancel a process; then it takes a screenshot.
func TestBrowserFlow(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("console browser tests skipped in -short mode")
	}
	k := newKit(t)
	mux := http.NewServeMux()
	mux.Handle("/console/", k.handler)
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()
	base := srv.URL + "/console/"

	// The timeout only bounds a hang; no assertion depends on time.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(shotWidth, shotHeight), chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, steps...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return s
	}
	do(chromedp.EmulateViewport(shotWidth, shotHeight))

	t.Run("sign in", func(t *testing.T) {
		do(chromedp.Navigate(base+"signin"),
			chromedp.SendKeys(chromedp.ID("token"), tokA),
			chromedp.Click(chromedp.CSS("main form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("header nav")),
		)
		require.Contains(t, text("main"), "Signed in as alice of organisation org-a")
		// The token is in a Secure, HttpOnly, SameSite=Strict cookie that chromium keeps
		// over http://127.0.0.1 (a secure context), and that page script cannot read.
		cookies, err := chromedp.Run(bctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
			res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
			return res.Cookies, err
		})
		require.NoError(t, err)
		require.Len(t, cookies, 1)
		c := cookies[0]
		require.Equal(t, "verifykit_console", c.Name)
		require.True(t, c.HTTPOnly)
		require.True(t, c.Secure)
		require.Equal(t, network.CookieSameSiteStrict, c.SameSite)
		require.Equal(t, "/console/", c.Path)
		visible, err := chromedp.Run(bctx, chromedp.Evaluate[string]("document.cookie"))
		require.NoError(t, err)
		require.Empty(t, visible)
		loc, err := chromedp.Run(bctx, chromedp.Location())
		require.NoError(t, err)
		require.NotContains(t, loc, tokA)
	})

	t.Run("filter the pending reset requests", func(t *testing.T) {
		do(chromedp.Navigate(base+"reset-requests"), chromedp.WaitVisible(chromedp.CSS("table")))
		require.Contains(t, text("p.count"), "3 requests")
		do(chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "DECLINED"),
			chromedp.Click(chromedp.CSS("form.filters button")),
			chromedp.WaitVisible(chromedp.CSS("p.empty")),
		)
		require.Contains(t, text("p.empty"), "No reset requests match.")
		do(chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "PENDING"),
			chromedp.SetValue(chromedp.CSS(`select[name="sort"]`), "userId"),
			chromedp.SetValue(chromedp.CSS(`select[name="order"]`), "desc"),
			chromedp.Click(chromedp.CSS("form.filters button")),
			chromedp.WaitVisible(chromedp.CSS("table")),
		)
		require.Contains(t, text("p.count"), "3 requests")
		require.Contains(t, text("tbody tr:first-child"), "user-eve")
		require.Contains(t, text("tbody tr:last-child"), "user-anna")
	})

	t.Run("decline a request", func(t *testing.T) {
		do(chromedp.Click(chromedp.CSS("#req-"+k.resetRequests["user-bob"]+" button.secondary")),
			chromedp.WaitVisible(chromedp.CSS("p.alert.ok")),
		)
		require.Equal(t, "Reset request declined.", text("p.alert.ok"))
		require.Equal(t, ports.ResetRequestDeclined, k.resetStatus(t, "user-bob"))
		require.Contains(t, text("p.count"), "2 requests")
		loc, err := chromedp.Run(bctx, chromedp.Location())
		require.NoError(t, err)
		require.Contains(t, loc, "sort=userId", "the list keeps its query")
	})

	t.Run("reset two fields of a profile and see them mandatory", func(t *testing.T) {
		do(chromedp.Navigate(base+"profiles/user-anna"),
			chromedp.Click(chromedp.CSS(`input[value="address.city"]`)),
			chromedp.Click(chromedp.CSS(`input[value="contact.email"]`)),
			chromedp.Click(chromedp.CSS("form.card button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("mandatory")),
		)
		mandatory := text("#mandatory")
		require.Contains(t, mandatory, "address.city")
		require.Contains(t, mandatory, "contact.email")
		require.Equal(t, "none", text("#status"))
		rec, err := k.profiles.Get(context.Background(), "user-anna")
		require.NoError(t, err)
		require.Equal(t, []string{"address.city", "contact.email"}, rec.MandatoryFields)
	})

	t.Run("cancel a process", func(t *testing.T) {
		do(chromedp.Navigate(base+"processes"),
			chromedp.Click(chromedp.CSS(`a[href*="`+processCreated+`"]`)),
			chromedp.WaitVisible(chromedp.ID("reason")),
			chromedp.SendKeys(chromedp.ID("reason"), "The actor asked by phone"),
			chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button`)),
			chromedp.WaitVisible(chromedp.CSS("p.alert.ok")),
		)
		require.Equal(t, "Process cancelled.", text("p.alert.ok"))
		require.Equal(t, "CANCELLED", text("#state"))
		require.Equal(t, "CANCELLED", k.processState(t, orgA, processCreated))
	})

	t.Run("readable on a phone", func(t *testing.T) {
		do(chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(2)),
			chromedp.Navigate(base+"reset-requests?status="),
			chromedp.WaitVisible(chromedp.CSS("table")),
		)
		width, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
		require.NoError(t, err)
		require.LessOrEqual(t, width, phoneWidth, "the page does not scroll sideways; wide tables scroll in their box")
	})

	t.Run("screenshot", func(t *testing.T) {
		do(chromedp.EmulateViewport(shotWidth, shotHeight),
			chromedp.Navigate(base+"reset-requests?status=&sort=createdAt&order=desc"),
			chromedp.WaitVisible(chromedp.CSS("table")),
		)
		shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, screenshotProblem(shot, shotWidth, shotHeight))
		path := filepath.Join(t.TempDir(), "console.png")
		require.NoError(t, os.WriteFile(path, shot, 0o644))
		t.Logf("screenshot: %s (%d bytes)", path, len(shot))
		if os.Getenv("VERIFYKIT_WRITE_SCREENSHOT") == "1" {
			require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "console.png"), shot, 0o644))
		}
	})
}

// screenshotProblem says what is wrong with shot: not a PNG, not width×height, or every
// pixel of one colour (blank); nil when nothing is.
func screenshotProblem(shot []byte, width, height int) error {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return fmt.Errorf("the screenshot is not a PNG: %w", err)
	}
	if got, want := img.Bounds(), image.Rect(0, 0, width, height); got != want {
		return fmt.Errorf("the screenshot is %v, not %v", got, want)
	}
	b := img.Bounds()
	first := color.RGBA64Model.Convert(img.At(b.Min.X, b.Min.Y))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBA64Model.Convert(img.At(x, y)) != first {
				return nil
			}
		}
	}
	return errors.New("the screenshot is blank: every pixel has the same colour")
}

func TestScreenshotProblem(t *testing.T) {
	encode := func(img image.Image) []byte {
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		return buf.Bytes()
	}
	blank := image.NewRGBA(image.Rect(0, 0, 8, 6))
	drawn := image.NewRGBA(image.Rect(0, 0, 8, 6))
	drawn.Set(7, 5, color.RGBA{R: 200, A: 255})
	cases := []struct {
		name    string
		shot    []byte
		problem string
	}{
		{"a drawn image", encode(drawn), ""},
		{"a blank image", encode(blank), "blank"},
		{"another size", encode(image.NewRGBA(image.Rect(0, 0, 6, 8))), "not"},
		{"no PNG", []byte("GIF89a"), "not a PNG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := screenshotProblem(tc.shot, 8, 6)
			if tc.problem == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.problem)
		})
	}
}
