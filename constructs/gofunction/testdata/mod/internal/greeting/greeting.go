// Package greeting is the internal package that hello and world share, so
// tests can prove that changing it rebuilds exactly its importers.
package greeting

// For returns the greeting for name.
func For(name string) string { return "hello, " + name }
