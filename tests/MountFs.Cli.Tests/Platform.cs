// The tool under test is Linux-only (flock, FUSE, POSIX modes), and so are these tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Tests run one at a time: a child process (e2fsck, mtools) spawned by one test inherits, between fork
// and exec, the image descriptors another test holds open, and with them its flock, so that test's next
// command would find its own image "in use". Separate mountfs processes never meet this.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
