// The tool under test is Linux-only (flock, FUSE, POSIX modes), and so are these tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
