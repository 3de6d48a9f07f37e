package gofunction

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The version prefixes change whenever the hashed inputs change meaning, so
// an upgrade of this package never reuses an asset built under old rules.
const (
	sourceHashVersion  = "gofunction-source/v2"
	treeHashVersion    = "gofunction-tree/v1"
	optionsHashVersion = "gofunction-options/v1"
	failedHashVersion  = "gofunction-failed/v1"
)

type listedModule struct {
	Path    string
	Version string
	Dir     string
	GoMod   string
	Main    bool
	Replace *listedModule
}

type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	DepOnly    bool
	Module     *listedModule
	Error      *struct{ Err string }
	Deps       []string

	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles,
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles []string
}

// listFields are the only fields we decode; asking go list for fewer keeps
// it from computing the rest.
const listFields = "ImportPath,Name,Dir,Standard,DepOnly,Module,Error,Deps," +
	"GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles"

func (p *listedPackage) sourceFiles() []string {
	return slices.Concat(p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles,
		p.FFiles, p.SFiles, p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles)
}

// listCache memoizes go list per build configuration and entry for the
// process: an app that builds the same handler in several stacks or
// environments pays for one go list. Files do not change during a synth;
// only their contents are read again.
var listCache = struct {
	sync.Mutex
	byKey    map[string][]listedPackage
	prefetch map[string]bool // patterns already listed, per configuration
}{byKey: map[string][]listedPackage{}, prefetch: map[string]bool{}}

// goListDeps returns entry's package and its dependency closure. The first
// call per configuration and directory lists every package next to entry
// (its parent directory, recursively) in one go list run and caches each
// main package's closure: handlers usually sit side by side, so an app with N
// of them pays for one go list instead of N. An entry that the sibling
// listing did not answer gets its own go list.
func goListDeps(tc *toolchain, c *buildConfig, entry string) ([]listedPackage, error) {
	listCache.Lock()
	defer listCache.Unlock()
	key := c.key() + "\x00" + entry
	if pkgs, ok := listCache.byKey[key]; ok {
		return pkgs, nil
	}
	if pattern := siblingPattern(entry); pattern != "" && !listCache.prefetch[c.key()+"\x00"+pattern] {
		listCache.prefetch[c.key()+"\x00"+pattern] = true
		// -e: a broken package elsewhere in the pattern must not fail this
		// entry; the entry's own errors are still reported by sourceHash.
		if all, err := goList(tc, c, "-e", pattern); err == nil {
			cacheClosures(c, all)
		}
		if pkgs, ok := listCache.byKey[key]; ok {
			return pkgs, nil
		}
	}
	pkgs, err := goList(tc, c, entry)
	if err != nil {
		return nil, err
	}
	listCache.byKey[key] = pkgs
	return pkgs, nil
}

func goList(tc *toolchain, c *buildConfig, patterns ...string) ([]listedPackage, error) {
	tracef("go list -deps %s", strings.Join(patterns, " "))
	args := append([]string{"list", "-deps", "-json=" + listFields}, c.listArgs()...)
	cmd := exec.Command(tc.goBin, append(args, patterns...)...)
	cmd.Dir = c.moduleDir
	cmd.Env = c.localEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	what := strings.Join(patterns, " ")
	if err != nil {
		return nil, fmt.Errorf("go list %s in %s: %s", what, c.moduleDir, goError(stderr.String(), err))
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list %s: decode: %w", what, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// siblingPattern is the go list pattern for entry's parent directory:
// "./lambda-src/x" → "./lambda-src/...", "example.com/m/cmd/x" →
// "example.com/m/cmd/...". "" when entry has no parent to list.
func siblingPattern(entry string) string {
	if rel, ok := strings.CutPrefix(entry, "./"); ok {
		if dir := path.Dir(rel); dir != "." {
			return "./" + dir + "/..."
		}
		return "./..."
	}
	if dir := path.Dir(entry); dir != "." && strings.Contains(dir, "/") {
		return dir + "/..."
	}
	return ""
}

// cacheClosures caches, for every main package a pattern listing matched,
// the closure a single go list -deps of it would have printed, under its
// import path and under its ./dir form.
func cacheClosures(c *buildConfig, all []listedPackage) {
	byPath := make(map[string]*listedPackage, len(all))
	for i := range all {
		byPath[all[i].ImportPath] = &all[i]
	}
	for i := range all {
		root := all[i]
		if root.DepOnly || root.Name != "main" || root.Error != nil {
			continue
		}
		closure := make([]listedPackage, 0, len(root.Deps)+1)
		for _, d := range root.Deps {
			dep, ok := byPath[d]
			if !ok || dep.Error != nil {
				// Incomplete listing, or a dependency go could not load: go
				// names one importer per broken package, maybe another
				// handler, so let the entry's own go list answer.
				closure = nil
				break
			}
			cp := *dep
			cp.DepOnly = true
			closure = append(closure, cp)
		}
		if closure == nil && len(root.Deps) > 0 {
			continue
		}
		closure = append(closure, root)
		listCache.byKey[c.key()+"\x00"+root.ImportPath] = closure
		if rel, err := filepath.Rel(c.moduleDir, root.Dir); err == nil && !strings.HasPrefix(rel, "..") {
			listCache.byKey[c.key()+"\x00"+"./"+filepath.ToSlash(rel)] = closure
		}
	}
}

// handlerSource is what hashing learned about a handler.
type handlerSource struct {
	importPath string
	hash       string
}

// sourceHash hashes what decides the handler's binary: the contents of
// every file of its dependency packages that live in the main module (or a
// module replaced by a local directory), named by import path so that no
// checkout directory enters; the path@version of every other module; the
// main module's go.mod and go.sum, hashed whole even when the handler comes
// from another module (go.mod's go, toolchain and godebug lines change every
// binary built in it; go.sum pins module contents); the go.mod of each
// locally replaced module; the workspace files if one is active; the flags,
// tags, environment and target; and the Go version with the variables that
// pick its code generation. Standard library packages are covered by the Go
// version.
func sourceHash(c *buildConfig, tc *toolchain, entry string) (handlerSource, error) {
	pkgs, err := goListDeps(tc, c, entry)
	if err != nil {
		return handlerSource{}, err
	}
	var root *listedPackage
	for i := range pkgs {
		if !pkgs[i].DepOnly {
			root = &pkgs[i]
		}
	}
	switch {
	case root == nil:
		return handlerSource{}, fmt.Errorf("go list %s reported no package", entry)
	case root.Error != nil:
		return handlerSource{}, fmt.Errorf("package %s: %s", entry, root.Error.Err)
	case root.Name != "main":
		return handlerSource{}, fmt.Errorf("%s is package %s, expected package main", root.ImportPath, root.Name)
	}

	lines := append(configLines(c), sourceHashVersion, "entry "+root.ImportPath)
	if c.forceDocker {
		// The image's toolchain builds, not the local one that listed.
		lines = append(lines, "image "+c.image)
	} else {
		for _, k := range []string{"GOVERSION", "GOAMD64", "GOARM64", "GOEXPERIMENT"} {
			lines = append(lines, "goenv "+k+"="+tc.env[k])
		}
	}
	goMods := map[string]listedModule{}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Error != nil {
			return handlerSource{}, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue
		}
		m := p.Module
		if m != nil && !m.Main && (m.Replace == nil || m.Replace.Version != "") {
			line := "module " + m.Path + "@" + m.Version
			if m.Replace != nil {
				line += " => " + m.Replace.Path + "@" + m.Replace.Version
			}
			lines = append(lines, line)
			continue
		}
		for _, f := range p.sourceFiles() {
			d, err := fileDigest(filepath.Join(p.Dir, f))
			if err != nil {
				return handlerSource{}, err
			}
			lines = append(lines, "file "+p.ImportPath+"/"+filepath.ToSlash(f)+" "+d)
		}
		if m != nil && !m.Main && m.GoMod != "" {
			goMods[m.Path] = *m
		}
	}
	if gomod := tc.env["GOMOD"]; gomod != "" && gomod != os.DevNull {
		mod, err := fileDigest(gomod)
		if err != nil {
			return handlerSource{}, err
		}
		sum, err := optionalDigest(filepath.Join(filepath.Dir(gomod), "go.sum"))
		if err != nil {
			return handlerSource{}, err
		}
		lines = append(lines, "gomod main "+mod, "gosum main "+sum)
	}
	for _, modPath := range slices.Sorted(maps.Keys(goMods)) {
		m := goMods[modPath]
		d, err := fileDigest(m.GoMod)
		if err != nil {
			return handlerSource{}, err
		}
		lines = append(lines, "gomod "+modPath+" "+d)
	}
	if w := tc.env["GOWORK"]; w != "" && w != "off" {
		for _, f := range []string{w, w + ".sum"} {
			d, err := optionalDigest(f)
			if err != nil {
				return handlerSource{}, err
			}
			lines = append(lines, "workspace "+filepath.Base(f)+" "+d)
		}
	}
	return handlerSource{importPath: root.ImportPath, hash: digestLines(lines)}, nil
}

// configLines are the build options every hash covers.
func configLines(c *buildConfig) []string {
	lines := []string{
		"target linux/" + c.goarch,
		fmt.Sprintf("cgo %t", c.cgo),
		"tags " + strings.Join(c.tags, ","),
		"flags " + shellJoin(c.flags),
	}
	for _, k := range slices.Sorted(maps.Keys(c.env)) {
		lines = append(lines, "env "+k+"="+c.env[k])
	}
	return lines
}

// optionsHash is the hash of a stack that CDK will not bundle (context
// aws:cdk:bundling-stacks excludes it, as unit tests do): no asset is built
// or deployed from it, so it only has to be stable, and skipping go list
// keeps such synths fast.
func optionsHash(c *buildConfig, entry string) string {
	return digestLines(append(configLines(c), optionsHashVersion, "entry "+entry))
}

// failedHash names the asset of a handler go could not list. Nothing is
// built under it; validation fails the synth.
func failedHash(c *buildConfig, entry string) string {
	return digestLines(append(configLines(c), failedHashVersion, "entry "+entry))
}

// treeHash stands in for sourceHash when no usable go exists, so the
// dependency graph is unknown: it hashes every file of the module (minus
// hidden directories, node_modules, cdk.out, nested modules and the asset
// outdir). Any change then rebuilds every handler of the module, in Docker.
func treeHash(c *buildConfig, entry, assetOutdir string) (string, error) {
	lines := append(configLines(c), treeHashVersion, "entry "+entry, "image "+c.image)
	err := filepath.WalkDir(c.moduleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == c.moduleDir {
				return nil
			}
			name := d.Name()
			if strings.HasPrefix(name, ".") || name == "node_modules" || name == "cdk.out" || p == assetOutdir {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		digest, err := fileDigest(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(c.moduleDir, p)
		if err != nil {
			return err
		}
		lines = append(lines, "file "+filepath.ToSlash(rel)+" "+digest)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash module %s: %w", c.moduleDir, err)
	}
	return digestLines(lines), nil
}

func fileDigest(p string) (string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", filepath.Base(p), err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// optionalDigest is fileDigest with "none" for a file that does not exist
// (a module without dependencies has no go.sum).
func optionalDigest(p string) (string, error) {
	d, err := fileDigest(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "none", nil
	}
	return d, err
}

// digestLines sorts and dedupes, so that neither go list's order nor a
// module listed once per package matters.
func digestLines(lines []string) string {
	lines = slices.Compact(slices.Sorted(slices.Values(lines)))
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
