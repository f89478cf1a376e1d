package identification

import (
	"reflect"
	"slices"
	"strings"

	"github.com/verifykit/verifykit/ports"
)

// profileFieldRegistry knows the profile field paths that a reset may name and a user may
// update. It is derived from the type ports.Profile when a ProfileService is built, so it
// cannot drift from the profile shape:
//
//   - a path is the JSON names from the root of the profile to a field, joined with dots,
//     e.g. "person.namePlain.first", "contact.email", "address.city";
//   - every exported field of kind string reachable through nested structs is a path,
//     unless it or a struct above it carries the tag `profile:"-"`, which ports.Profile puts
//     on identifiers (contact.id, contact.ownerId, contact.linkedUserId), the profile type,
//     the identification status and the security settings;
//   - slices (contact.socialMedias), maps (additional) and non-string fields are not paths.
//
// A registry is never changed after it is built.
type profileFieldRegistry struct {
	index map[string][]int // path -> index for reflect.Value.FieldByIndex
	paths []string         // sorted
}

// newProfileFieldRegistry walks ports.Profile.
func newProfileFieldRegistry() *profileFieldRegistry {
	r := &profileFieldRegistry{index: make(map[string][]int)}
	r.walk(reflect.TypeFor[ports.Profile](), "", nil)
	slices.Sort(r.paths)
	return r
}

func (r *profileFieldRegistry) walk(t reflect.Type, prefix string, at []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Tag.Get("profile") == "-" || name == "" || name == "-" {
			continue
		}
		path, index := prefix+name, append(slices.Clip(at), i)
		switch f.Type.Kind() {
		case reflect.Struct:
			r.walk(f.Type, path+".", index)
		case reflect.String:
			r.index[path] = index
			r.paths = append(r.paths, path)
		}
	}
}

// known reports whether path is a field path of the registry.
func (r *profileFieldRegistry) known(path string) bool {
	_, ok := r.index[path]
	return ok
}

// get returns the value of the field path of p; path must be known.
func (r *profileFieldRegistry) get(p *ports.Profile, path string) string {
	return reflect.ValueOf(p).Elem().FieldByIndex(r.index[path]).String()
}

// set sets the field path of p to value; path must be known.
func (r *profileFieldRegistry) set(p *ports.Profile, path, value string) {
	reflect.ValueOf(p).Elem().FieldByIndex(r.index[path]).SetString(value)
}
