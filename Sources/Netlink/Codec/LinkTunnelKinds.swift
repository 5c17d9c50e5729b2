extension LinkMessage {
    /// The link kinds whose local (source) address the decoder reads into `tunnelLocal`: the
    /// kernel tunnels that stop working once no device of their namespace has that address. A
    /// look that needs only these links asks for each kind by the kernel's kind filter instead of
    /// dumping every link.
    public static var tunnelKinds: [String] { tunnelLocalAttributes.keys.sorted() }
}
