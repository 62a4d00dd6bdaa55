namespace Latent.Data;

/// <summary>Text from files made safe to print: a terminal acts on control characters, so they are written out.</summary>
public static class SafeText
{
    /// <summary><paramref name="text"/> with every control character (C0, DEL, C1) written as <c>\uXXXX</c>.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString())) : text;
    }
}
