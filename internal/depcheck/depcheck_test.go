package depcheck_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/ports"
)

func TestCheckNamesEveryMissingDependency(t *testing.T) {
	var c depcheck.Check
	require.NoError(t, c.Err())
	c.Require("Store", true)
	c.Require("Clock", false)
	c.Require("Tokens", true)
	var ve *verifykit.Error
	require.ErrorAs(t, c.Err(), &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Len(t, ve.Invalid, 2)
	require.Equal(t, "Store", ve.Invalid[0].Entry)
	require.Equal(t, "Tokens", ve.Invalid[1].Entry)
	require.Equal(t, verifykit.EntryConfig, ve.Invalid[0].EntryType)
}

func TestDefaults(t *testing.T) {
	require.Equal(t, ports.SystemClock{}, depcheck.ClockOr(nil))
	c := memory.NewClock(ports.SystemClock{}.Now())
	require.Same(t, c, depcheck.ClockOr(c))
	require.NotNil(t, depcheck.LoggerOr(nil))
}

// TestCoreImports keeps the core packages (root, ports, otp, and the flows: personrequest,
// identification, identification/otpprocess and authmethod) to the standard library, each
// other, and the dependencies DESIGN.md allows them: no adapter, and none of the adapters'
// dependencies (jwx, pgx, ...). golang.org/x/time is allowed.
func TestCoreImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the imports with")
	}
	const module = "github.com/verifykit/verifykit"
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		".", "./ports", "./otp/...", "./personrequest/...", "./identification/...", "./authmethod/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	allowed := []string{"github.com/google/uuid", "github.com/sethvargo/go-retry", "golang.org/x/time", "github.com/nyaruka/phonenumbers",
		// phonenumbers' own dependencies: its metadata is protobuf, and it folds text.
		"google.golang.org/protobuf", "golang.org/x/text"}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == module || strings.HasPrefix(pkg, module+"/") {
			rest := strings.TrimPrefix(pkg, module)
			require.False(t, strings.HasPrefix(rest, "/adapters/") || strings.HasPrefix(rest, "/examples/"), "the core imports %s", pkg)
			continue
		}
		require.True(t, slices.ContainsFunc(allowed, func(a string) bool { return pkg == a || strings.HasPrefix(pkg, a+"/") }),
			"the core imports %s, which DESIGN.md does not allow it (jwx and the other adapter dependencies stay in adapters/)", pkg)
	}
}
