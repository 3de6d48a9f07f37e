// Command hello imports the shared greeting package and embeds a file.
package main

import (
	_ "embed"
	"fmt"

	"example.com/gofntest/internal/greeting"
)

//go:embed message.txt
var message string

func main() { fmt.Println(greeting.For("hello"), message) }
