using MountFs.Blocks;

namespace MountFs.Ext.Tests.Checking;

/// <summary>
/// Opens test images despite a brief foreign lock: a process another test forks inherits every open descriptor
/// (with its flock) until it execs, so a file just closed here can look locked for a moment.
/// </summary>
internal static class ImageFileRetry
{
    public static T Do<T>(Func<T> action)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return action();
            }
            catch (IOException) when (attempt < 100)
            {
                Thread.Sleep(20);
            }
        }
    }

    public static void Do(Action action) => Do(() => { action(); return 0; });

    public static FileBlockDevice Open(string path, bool readOnly) => Do(() => FileBlockDevice.Open(path, readOnly));
}
