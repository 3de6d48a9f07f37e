// Command securestacks runs the securestacks Lambdas' logic from a terminal, on the same
// packages the Lambdas use: version today; asff, kms and fle groups register in commands.go.
//
// Exit status: 0 success, 1 failure, 2 usage error. Every error is one line on stderr.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
