package deps_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreImportsNoAdapterDependency: the core packages (root, ports, otp and the flows)
// import, directly or not, none of the adapters nor the dependencies only adapters may
// bring (delivery: Twilio over net/http, SMTP through go-mail, pacing with x/time/rate;
// storage drivers), as listed by `go list -deps`.
func TestCoreImportsNoAdapterDependency(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	core := []string{".", "./ports", "./otp", "./personrequest", "./identification", "./authmethod"}
	cmd := exec.Command(goTool, append([]string{"list", "-deps"}, core...)...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	forbidden := []string{
		"github.com/verifykit/verifykit/adapters/",
		"github.com/wneessen/go-mail",
		"github.com/emersion/",
		"golang.org/x/time/rate",
		"github.com/jackc/",
		"github.com/redis/",
		"net/http",
		"net/smtp",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			require.False(t, pkg == f || strings.HasPrefix(pkg, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(pkg, f)),
				"a core package depends on %s", pkg)
		}
	}
}
