#!/usr/bin/env bash
# Packs DiffMpc into a temporary local folder feed and consumes it as a user would: a fresh
# console project outside the solution references the package by id and version, restored from
# that feed only (its dependencies from nuget.org), solves small problems through the public API
# and checks the answers. Exit code 0 on success.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="$(dotnet msbuild "$root/src/DiffMpc/DiffMpc.csproj" -getProperty:Version)"

dotnet pack "$root/src/DiffMpc/DiffMpc.csproj" -c Release -o "$work/feed" --nologo -v quiet
test -f "$work/feed/DiffMpc.$version.nupkg"
test -f "$work/feed/DiffMpc.$version.snupkg"

mkdir -p "$work/app"
cat > "$work/app/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="DiffMpc" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
cat > "$work/app/SmokeApp.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="DiffMpc" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$work/app/Program.cs" <<'CS'
using DiffMpc;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Systems;

// 1. Scalar LQR with one step: min 1/2 (x1^2 + u1^2 + x2^2 + u2^2), x2 = x1 + u1, x1 = 1.
//    u2 = 0 and u1 minimises 1/2 u1^2 + 1/2 (1 + u1)^2, so u1 = -1/2, x2 = 1/2, cost = 3/4.
var dims = new MpcDimensions(2, 1, 1, 1);
var problem = new LqrProblem(dims, [1.0], StageArray.Shared([1, 0, 0, 1]), StageArray.Shared([0.0, 0.0]),
    StageArray.Shared([1.0, 1.0]));
MpcSolution sol = Mpc.Solve(problem);
Check(sol.Status[0] == SolveStatus.Converged, "LQR converged");
Check(Math.Abs(sol.U[0] + 0.5) < 1e-12 && Math.Abs(sol.X[1] - 0.5) < 1e-12 && Math.Abs(sol.Cost[0] - 0.75) < 1e-12, "LQR answer");
// dL/dx_init of L = x2: x2 = x1 / 2 at the optimum, so 1/2.
MpcGradients g = Mpc.Backward(sol, [0.0, 1.0], null);
Check(Math.Abs(g.XInit[0] - 0.5) < 1e-12, "LQR gradient");

// 2. The built-in pendulum through box-constrained iLQR, with exact parameter gradients.
var pendulum = new Pendulum();
var C = new double[16];
for (int i = 0; i < 4; i++) C[i * 4 + i] = Pendulum.CostDiagQ[i];
var nl = new NonlinearProblem(new MpcDimensions(10, 1, 3, 1), pendulum, Pendulum.TextbookParameters,
    [Math.Cos(1.0), Math.Sin(1.0), 0.0], StageArray.Shared(C), StageArray.Shared(Pendulum.CostP),
    StageArray.Scalar(-2), StageArray.Scalar(2));
MpcSolution plan = Mpc.Solve(nl);
Check(plan.Status[0] == SolveStatus.Converged && plan.KktResidual[0] < 1e-8, "iLQR converged");
NonlinearGradients ng = Mpc.BackwardNonlinear(plan, null, plan.U);
Check(ng.Parameters.Length == 3 && ng.Parameters.All(double.IsFinite), "iLQR gradients");
Console.WriteLine("package smoke test: all checks passed");

static void Check(bool ok, string what)
{
    if (!ok)
    {
        Console.Error.WriteLine($"package smoke test FAILED: {what}");
        Environment.Exit(1);
    }
}
CS
cd "$work/app"
dotnet run -c Release --nologo
