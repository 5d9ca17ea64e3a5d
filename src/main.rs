fn main() -> std::process::ExitCode {
    ronron::cli::main()
}
