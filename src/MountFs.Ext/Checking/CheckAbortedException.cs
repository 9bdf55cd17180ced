namespace MountFs.Ext.Checking;

/// <summary>The check cannot go on: the device or the structures needed to read it are unusable (fsck exit 8).</summary>
internal sealed class CheckAbortedException(string message) : Exception(message);

/// <summary>Preen (-p) met a problem it is not allowed to fix alone; the run stops and asks for a manual fsck (exit 4).</summary>
internal sealed class PreenHaltException(string message) : Exception(message);
