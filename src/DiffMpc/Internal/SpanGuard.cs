// Span-length checks for the allocation-free per-call APIs (Guard.Length covers double[]).
// The message is built only on failure, in a method that is never inlined into the hot path.
using System.Runtime.CompilerServices;

namespace DiffMpc.Internal;

internal static class SpanGuard
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(int actual, int expected, string paramName, string shape)
    {
        if (actual != expected)
        {
            Throw(actual, expected, paramName, shape);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(int actual, int expected, string paramName, string shape) =>
        throw new ArgumentException($"{paramName} must have shape {shape} = {expected} values; got {actual} values.", paramName);
}
