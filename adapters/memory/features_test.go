package memory_test

import "github.com/verifykit/verifykit/ports/porttest"

// features are the optional guarantees of the memory stores: all of them, each suite using
// its own.
var features = porttest.Features{ProcessDelete: true, PersonUpdate: true, ConfidantUpdate: true, ResetRequestOpen: true}
